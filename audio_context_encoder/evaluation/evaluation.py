"""The paper's evaluation (§3.4, §4.1-4.2) of any method (methods.py) on test windows.

`evaluate` scores one batch, `evaluate_dataset` a dataset split (resumable); both serve
experiments/tables.py (`make tables`) and the CLI `evaluate` command. Input: windows with
margins, [B, 5632] = the 5120-sample segment plus 256 samples (16 ms) on each side (the
dataset's 'audio'). Output: per-segment arrays.

  A method that fills the windows' layout (LPC, interp at 64 and 48 ms; the network at 64 ms)
  is scored directly: SNR_MS and SNR_TD of the restored segment, and for magnitude methods
  the SNR of the magnitudes before phase retrieval.
  A method trained for another gap (the 64 ms network at 48 ms) is scored through Table 3's
  extensions (methods.Extended): its 64 ms gap holds the 48 ms gap extended 16 ms forward,
  16 ms backward and 8 + 8 ms centred; each result is scored on the centred 48 ms segment,
  and 'snr_ms' / 'snr_td' are the per-segment means over the three.
"""

import hashlib
import json
import os
import time
from typing import Callable, List, Optional, Tuple, Union

import numpy as np
from tqdm import tqdm

from audio_context_encoder.common import atomic
from audio_context_encoder import config as config_lib
from audio_context_encoder.dsp import dgt as dgt_lib
from audio_context_encoder import methods as methods_lib
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import metric_registry
from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.data.manifest import read_manifest


def resolve(method: Union[str, methods_lib.Method], predict_fn: Optional[Callable] = None,
            config: config_lib.Config = None, phase_method: str = None,
            seed: int = 0) -> methods_lib.Method:
  """A Method: `method` itself, or the registered one of that name built with these options."""
  if isinstance(method, methods_lib.Method):
    return method
  if method not in methods_lib.all_names():
    raise ValueError(f'method must be one of {methods_lib.all_names()}, got {method!r}')
  if method == 'network' and predict_fn is None:
    raise ValueError("method 'network' needs predict_fn (see methods.network_predictor)")
  return methods_lib.get(method, predict=predict_fn, config=config, phase_method=phase_method,
                         seed=seed)


def _scores(original, restored, sig) -> dict:
  """Every registered segment metric (metric_registry.SEGMENT) of the restored segments."""
  return {m.name: m.function(original, restored, sig)
          for m in metric_registry.of_kind(metric_registry.SEGMENT)}


def _magnitude_snr(method_result: methods_lib.Restored, original, sig):
  """SNR of a magnitude method's gap magnitudes before phase retrieval, or None."""
  if method_result.magnitudes is None:
    return None
  start, end = sig.gap_dgt_columns
  true = dgt_lib.magnitude(np.asarray(original).astype(np.float64), sig, np.arange(start, end))
  return metrics.snr_magnitudes(true, method_result.magnitudes)


def _score_direct(method: methods_lib.Method, original, sig):
  """The method on the windows' own layout: (scores, restored)."""
  result = method.restore(original, sig)
  out = {}
  if result.n_fallback is not None:
    out['n_fallback'] = result.n_fallback
  snr_mag = _magnitude_snr(result, original, sig)
  if snr_mag is not None:
    out['snr_mag'] = snr_mag
  out.update(_scores(original, result.restored, sig))
  return out, result.restored


def _score_extended(method: methods_lib.Method, audio, original, sig, config):
  """Table 3: the method on each extension of the gap; per-segment means of the scores (and of
  the magnitudes' SNR on the extended gap, before phase retrieval), the centred extension's
  restoration."""
  out, restored = {}, None
  wrappers = methods_lib.extensions(method, config)
  for wrapper in wrappers:
    candidate, inner_windows, result = wrapper.fill_scored(audio, sig)
    for key, value in _scores(original, candidate, sig).items():
      out[f'{key}_{wrapper.extension}'] = value
    snr_mag = _magnitude_snr(result, inner_windows, wrapper.inner.sig)
    if snr_mag is not None:
      out[f'snr_mag_{wrapper.extension}'] = snr_mag
    if restored is None or (wrapper.before, wrapper.after) == (128, 128):
      restored = candidate
  for key in [m.name for m in metric_registry.of_kind(metric_registry.SEGMENT)] + ['snr_mag']:
    values = [out[f'{key}_{w.extension}'] for w in wrappers if f'{key}_{w.extension}' in out]
    if values:
      out[key] = np.mean(values, axis=0)
  return out, restored


def evaluate(audio, method, gap_ms: int = 64, predict_fn: Optional[Callable] = None,
             config: config_lib.Config = None, phase_method: str = None, seed: int = 0,
             return_restored: bool = False) -> dict:
  """Per-segment SNR_MS and SNR_TD (and more) of `method` on windows audio [B, L + 2 margin].

  method: a methods.Method, or a registered name ('lpc', 'interp', 'network'; the network
    then needs predict_fn: segments [B, 5120] -> [B, 11, 257] magnitudes or complex
    coefficients, see methods.network_predictor).
  Returns a dict of arrays [B]: one per registered segment metric ('snr_ms', 'snr_td';
  metric_registry); for magnitude methods on their own layout also 'snr_mag'; for a method
  extended to a shorter gap (the network at 48 ms) per extension '<metric>_<extension>' and
  their mean '<metric>'; for LPC the int 'n_fallback'; with return_restored,
  'original' and 'restored' [B, 5120].
  """
  method = resolve(method, predict_fn, config, phase_method, seed)
  sig = config_lib.signal_config(gap_ms)
  audio = np.atleast_2d(np.asarray(audio))
  original, _ = methods_lib.segments_of(audio, sig)
  if method.fills(sig):
    out, restored = _score_direct(method, original, sig)
  else:
    out, restored = _score_extended(method, audio, original, sig,
                                    config or getattr(method, 'cfg', None))
  if return_restored:
    out['original'] = np.asarray(original)
    out['restored'] = np.asarray(restored)
  return out


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
  h = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(chunk), b''):
      h.update(block)
  return h.hexdigest()


def job_key(data_dir, split: str, method: methods_lib.Method, gap_ms: int, max_segments: int = 0,
            batch_size: int = 64, shard: Tuple[int, int] = (0, 1)) -> dict:
  """What an evaluation's per-segment values depend on: the dataset (its folder and the hash of
  its manifest, rewritten by every build), split, gap, the method (name, config, phase
  retrieval, seed, and the hash of its model file), the selection (max_segments, batch) and the
  registered segment metrics (a new one is computed for every segment), and the shard (i of N)
  when the job is one of several. A resume file or a finished job is reused only under the same
  key."""
  model = getattr(method, 'model_path', None)
  return _as_saved({'data_dir': os.path.realpath(data_dir),
          'manifest_sha256': file_sha256(os.path.join(data_dir, 'manifest.json')),
          'split': split, 'gap_ms': int(gap_ms), 'method': method.name,
          'model_sha256': file_sha256(model) if model else None,
          **method.settings(),
          'phase_method': getattr(method, 'phase_method', None), 'seed': getattr(method, 'seed', None),
          'max_segments': int(max_segments or 0), 'batch_size': int(batch_size),
          'metrics': [m.name for m in metric_registry.of_kind(metric_registry.SEGMENT)],
          **({'shard': list(shard)} if shard[1] > 1 else {})})


def _as_saved(key: dict) -> dict:
  """The key as it reads back from a file (JSON: tuples become lists)."""
  return json.loads(_key_text(key))


def _key_text(key: dict) -> str:
  return json.dumps(key, sort_keys=True)


def _key_difference(saved: dict, key: dict) -> str:
  """The fields where two keys differ, for the one-line note."""
  names = {'data_dir': 'dataset folder', 'manifest_sha256': 'dataset (manifest)',
           'model_sha256': 'model file'}
  return ', '.join(names.get(k, k) for k in sorted(set(saved) | set(key)) if saved.get(k) != key.get(k))


def saved_key(path: str) -> Optional[dict]:
  """The key stored in an npz this module wrote, or None (no key, or not readable)."""
  try:
    with np.load(path, allow_pickle=False) as saved:
      return json.loads(str(saved['key'])) if 'key' in saved.files else None
  except (OSError, ValueError, KeyError, EOFError, json.JSONDecodeError):
    return None


def load_finished(path: str, key: dict, log=print) -> Optional[dict]:
  """The per-segment values of a finished job saved at `path` under the same key, or None (and a
  note when a file is there but was made by something else, or is damaged)."""
  if not os.path.exists(path):
    return None
  old = saved_key(path)
  if old != key:
    why = _key_difference(old, key) if old else 'no key or a damaged file'
    log(f'note: {path} was made with another {why}; evaluating again')
    return None
  with np.load(path, allow_pickle=False) as saved:
    out = {k: saved[k] for k in saved.files if k != 'key'}
  out['n_fallback'] = int(out.get('n_fallback', 0))
  return out


def save_result(path: str, result: dict, key: dict) -> None:
  """A finished job's per-segment values with the key that produced them (load_finished)."""
  save_npz(path, {**{k: np.asarray(v) for k, v in result.items()}, 'key': np.array(_key_text(key))})


def shard_selection(available: int, max_segments: int = 0,
                    shard: Tuple[int, int] = (0, 1)) -> Optional[np.ndarray]:
  """The positions in the split a job evaluates (None: all of them, in order): max_segments at a
  fixed stride over the whole split (metrics.spread_indices), and of those every N-th from the
  i-th for shard (i, N), so the N shards together are one run's selection."""
  i, n = shard
  if not 0 <= i < n:
    raise ValueError(f'shard {i} of {n}: give 0 <= shard < num_shards')
  chosen = None
  if max_segments and max_segments < available:
    chosen = metrics.spread_indices(available, max_segments)
  if n > 1:
    chosen = (np.arange(available) if chosen is None else chosen)[i::n]
  return chosen


def merge_shards(parts: List[dict]) -> dict:
  """The N results of a job's shards as the one of a single run: per-segment arrays in the
  split's order ('index'), the fallbacks summed, the per-batch times ('seconds') joined."""
  index = np.concatenate([p['index'] for p in parts])
  order = np.argsort(index, kind='stable')
  n = len(index)
  out = {}
  for key in parts[0]:
    if key == 'n_fallback':
      out[key] = int(sum(int(p[key]) for p in parts))
      continue
    joined = np.concatenate([np.asarray(p[key]) for p in parts])
    out[key] = joined[order] if len(joined) == n else joined
  return out


def evaluate_dataset(data_dir, split: str, method: str, gap_ms: int = 64,
                     predict_fn: Optional[Callable] = None, config: config_lib.Config = None,
                     max_segments: int = 0, batch_size: int = 64, phase_method: str = None,
                     resume_path: str = None, progress: bool = True, log=print,
                     shard: Tuple[int, int] = (0, 1)) -> dict:
  """`evaluate` over a dataset split; per-segment arrays concatenated, in file order.

  Windows come from reader.evaluation_dataset (gap RMS >= 1e-4 for this gap length, §3.2);
  'index' is each segment's position in them. max_segments > 0 takes that many at a fixed
  stride over the whole split (metrics.spread_indices), so every track is represented in
  proportion. With resume_path, the arrays so far are saved there (npz, temp file + rename)
  after every batch with their job_key, and a rerun continues from them only under the same
  key (the same dataset, model, config, selection); otherwise it starts again with a note.
  A damaged record is a DatasetError naming its shard. shard (i, N): only every N-th selected
  segment from the i-th (shard_selection); merge_shards joins the N results into the one of a
  single run.
  """
  method = resolve(method, predict_fn, config, phase_method)
  key = job_key(data_dir, split, method, gap_ms, max_segments, batch_size, shard) if resume_path else None
  available = _split_size(data_dir, split, gap_ms)
  chosen = shard_selection(available, max_segments, shard)
  total = available if chosen is None else len(chosen)
  parts = _resumed(resume_path, key, log)
  done = len(parts['index'][0]) if parts else 0
  bar = tqdm(total=total, initial=done, unit='seg', desc=f'{method.name} {gap_ms} ms {data_dir}',
             disable=not progress)
  with bar:  # closed on the way out of an interrupted job too, before its one-line message
    for audio, track_id, offset, index in _selected_batches(data_dir, split, gap_ms, batch_size,
                                                            chosen, total, done):
      t0 = time.perf_counter()
      out = evaluate(audio, method, gap_ms, config=config)
      out['seconds'] = np.array([time.perf_counter() - t0])  # the method's wall time per batch
      out['n_fallback'] = np.array([out.get('n_fallback', 0)])
      out['track_id'], out['offset'], out['index'] = track_id.astype(str), offset, index
      for k, v in out.items():
        parts.setdefault(k, []).append(np.asarray(v))
      bar.update(len(audio))
      if resume_path and len(audio) == batch_size:
        save_npz(resume_path, {**{k: np.concatenate(v) for k, v in parts.items()},
                               'key': np.array(_key_text(key))})
  result = {k: np.concatenate(v) for k, v in parts.items()}
  result['n_fallback'] = int(result.get('n_fallback', np.zeros(1)).sum())
  return result


def _split_size(data_dir, split: str, gap_ms: int) -> int:
  """Windows of the split that pass the gap-RMS filter of this gap length (manifest count)."""
  counts = read_manifest(data_dir).get('splits', {}).get(split, {}) or {}
  available = counts.get(f'kept_{gap_ms}')
  if available is None:
    raise DatasetError(f'{data_dir}/manifest.json: no kept_{gap_ms} count for split {split!r}')
  return available


def _resumed(resume_path: str, key: dict, log=print) -> dict:
  """{key: [array so far]} saved by an interrupted run with the same job key; {} when there is
  none, or (with a note) when it was made by something else or cannot be read."""
  if not (resume_path and os.path.exists(resume_path)):
    return {}
  old = saved_key(resume_path)
  if old != key:
    why = _key_difference(old, key) if old else 'no key or a damaged file'
    log(f'note: {resume_path}: the saved progress was made with another {why}; starting this '
        'job again')
    return {}
  with np.load(resume_path, allow_pickle=False) as saved:
    parts = {k: [saved[k]] for k in saved.files if k not in ('key', 'n_fallback')}
    parts['n_fallback'] = [saved['n_fallback']]
  return parts


def _selected_batches(data_dir, split: str, gap_ms: int, batch_size: int, chosen, total: int,
                      done: int):
  """(audio, track_id, offset, index) batches of `batch_size` selected windows (the last one
  shorter), in file order: all of them, or those at the `chosen` indices; the first `done`
  selected ones (evaluated before a resume) left out."""
  from audio_context_encoder.context_encoder import reader  # TensorFlow (tf.data): loaded only for datasets
  try:
    yield from _batches_of(reader, data_dir, split, gap_ms, batch_size, chosen, total, done)
  except reader.tf.errors.DataLossError:
    raise DatasetError(reader.damaged_shard(data_dir, [split])) from None


def _batches_of(reader, data_dir, split, gap_ms, batch_size, chosen, total, done):
  """_selected_batches' loop (reader: the tf.data module, imported by the caller)."""
  ds = reader.evaluation_dataset(data_dir, split, gap_ms=gap_ms, batch_size=batch_size)
  first_index = 0  # index in the split of the batch's first record
  if done and chosen is None:
    ds = ds.skip(done // batch_size)
    first_index = done // batch_size * batch_size
  keys = ('audio', 'track_id', 'offset', 'index')
  pending = {k: [] for k in keys}
  selected = first_index  # selected records met so far (all skipped ones were selected)
  for batch in ds:
    n = len(batch['offset'])
    index = np.arange(first_index, first_index + n)
    first_index += n
    take = np.ones(n, bool) if chosen is None else np.isin(index, chosen)
    order = selected + np.cumsum(take) - 1  # rank of each taken record among the selected
    selected += int(take.sum())
    take &= order >= done  # already evaluated before a resume
    if not take.any():
      continue
    for k in keys[:3]:
      pending[k].append(batch[k].numpy()[take])
    pending['index'].append(index[take])
    while sum(len(a) for a in pending['audio']) >= batch_size:
      joined = {k: np.concatenate(v) for k, v in pending.items()}
      yield tuple(joined[k][:batch_size] for k in keys)
      pending = {k: [v[batch_size:]] for k, v in joined.items()}
    if chosen is not None and selected >= total:
      break
  if pending['audio'] and sum(len(a) for a in pending['audio']):
    joined = {k: np.concatenate(v) for k, v in pending.items()}
    yield tuple(joined[k] for k in keys)


def save_npz(path: str, arrays: dict) -> None:
  """np.savez to a temp file, then rename (never a half-written file)."""
  with atomic.replacing(path) as tmp:
    np.savez(tmp, **arrays)
