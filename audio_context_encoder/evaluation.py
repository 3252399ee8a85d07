"""The paper's evaluation of one batch of test windows (§3.4, §4.1-4.2).

One function, `evaluate`, used by experiments/tables.py (`make tables`) and by
the CLI `evaluate` command. Input: windows with margins, [B, 5632] = the
5120-sample segment plus 256 samples (16 ms) on each side (the dataset's
'audio'). Output: per-segment arrays.

  64 ms, 'lpc':      LPC on the centred segment (contexts of 2048).
  64 ms, 'network':  network magnitudes of the centred segment -> phase
                     retrieval (PGHI + FGLA by default) -> SNRs; also the SNR
                     of the magnitudes themselves before phase retrieval.
  'interp':          magnitudes interpolated between the border frames of the
                     two contexts (features.interpolated_gap_magnitude, no
                     training), then the network's phase retrieval; at 48 ms
                     directly in the 48 ms layout, like LPC.
  48 ms, 'lpc':      LPC with the 48 ms layout (contexts of 2176).
  48 ms, 'network':  the 64 ms network on three 5120-sample windows whose 64 ms
                     gap contains the 48 ms gap extended 16 ms forward, 16 ms
                     backward and 8 + 8 ms centred (Table 3); each result is
                     scored on the centred 48 ms segment; 'snr_ms' / 'snr_td'
                     are the per-segment means over the three.
"""

from typing import Callable, Optional

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder import dgt as dgt_lib
from audio_context_encoder import lpc, metrics, phase

METHODS = ('lpc', 'interp', 'network')
EXTENSION_NAMES = {(0, 256): 'forward', (256, 0): 'backward', (128, 128): 'centred'}


def network_predictor(model, cfg, batch_size: int = 64) -> Callable:
  """segments [B, 5120] -> gap coefficients [B, 11, 257] with a trained model (lazy TF import)."""
  from audio_context_encoder import inference

  def predict(segments):
    return inference.predict_gap(model, cfg, np.asarray(segments, np.float32), batch_size)

  return predict


def interpolation_predictor(sig) -> Callable:
  """segments [B, L] -> interpolated gap magnitudes [B, gap_frames, bins] (no training)."""
  from audio_context_encoder import features

  def predict(segments):
    context = features.context_features(np.asarray(segments, np.float32), sig)
    return features.interpolated_gap_magnitude(context, sig).numpy()

  return predict


def _restore_network(window, predict_fn, sig, rcfg, phase_method, seed):
  """Restored windows [B, 5120] and the raw predictions for 64 ms windows."""
  pred = np.asarray(predict_fn(window))
  if np.iscomplexobj(pred):
    # Complex network: tf.signal.stft frames -> 'timeinv' DGT columns, no phase retrieval.
    restored = phase.synthesize_gap(window, dgt_lib.from_stft_frames(pred, sig), sig)
  else:
    restored = phase.reconstruct_from_magnitudes(window, pred, sig, phase_method, rcfg, seed=seed)
  return restored, np.abs(pred)


def evaluate(audio, method: str, gap_ms: int = 64, predict_fn: Optional[Callable] = None,
             config: config_lib.Config = None, phase_method: str = None, seed: int = 0,
             return_restored: bool = False) -> dict:
  """Per-segment SNR_MS and SNR_TD (and more) of `method` on windows audio [B, L + 2 margin].

  method: 'lpc', 'interp' or 'network' (then predict_fn: segments [B, 5120] -> [B, 11, 257]
    magnitudes or complex coefficients; see network_predictor).
  Returns a dict of arrays [B]: 'snr_ms', 'snr_td'; for the network at 64 ms and for
  interp also 'snr_mag'; for the network at 48 ms per extension 'snr_ms_<name>',
  'snr_td_<name>'; for LPC the int 'n_fallback'; with return_restored, 'original' and
  'restored' [B, 5120].
  """
  if method not in METHODS:
    raise ValueError(f'method must be one of {METHODS}, got {method!r}')
  if method == 'network' and predict_fn is None:
    raise ValueError("method 'network' needs predict_fn (see network_predictor)")
  cfg = config or config_lib.paper()
  rcfg = cfg.reconstruction
  phase_method = phase_method or rcfg.phase_method
  sig = config_lib.signal_config(gap_ms)
  sig64 = config_lib.signal_config(64)
  audio = np.atleast_2d(np.asarray(audio))
  margin = (audio.shape[-1] - sig.L) // 2
  if margin < 0 or audio.shape[-1] != sig.L + 2 * margin:
    raise ValueError(f'windows must be {sig.L} samples plus equal margins, got length {audio.shape[-1]}')
  original = audio[:, margin:margin + sig.L]
  out = {}
  if method == 'lpc':
    restored, out['n_fallback'] = lpc.lpc_inpaint(original, sig, rcfg.lpc_order)
  elif method == 'interp' or gap_ms == 64:
    # The interpolation needs no training, so it fills the 48 ms layout directly, as LPC does.
    if method == 'interp':
      predict_fn = interpolation_predictor(sig)
    restored, mags = _restore_network(original, predict_fn, sig, rcfg, phase_method, seed)
    start, end = sig.gap_dgt_columns
    true = dgt_lib.magnitude(original.astype(np.float64), sig, np.arange(start, end))
    out['snr_mag'] = metrics.snr_magnitudes(true, mags)
  else:
    need = max(max(e) for e in rcfg.gap_extensions)
    if margin < need:
      raise ValueError(f'48 ms with the 64 ms network needs margins of {need} samples, got {margin}')
    gap_start = margin + sig.Lc  # the 48 ms gap in window coordinates
    scores = {'snr_ms': [], 'snr_td': []}
    restored = None
    for before, after in rcfg.gap_extensions:
      if before + after != sig64.Lg - sig.Lg:
        raise ValueError(f'extension {(before, after)} does not make a {sig64.Lg}-sample gap')
      w0 = gap_start - before - sig64.Lc
      rest, _ = _restore_network(audio[:, w0:w0 + sig64.L], predict_fn, sig64, rcfg, phase_method,
                                 seed)
      full = audio.copy()
      full[:, w0:w0 + sig64.L] = rest
      candidate = full[:, margin:margin + sig.L]
      name = EXTENSION_NAMES.get((before, after), f'{before}_{after}')
      out[f'snr_ms_{name}'] = metrics.snr_ms(original, candidate, sig)
      out[f'snr_td_{name}'] = metrics.snr_td(original, candidate, sig)
      scores['snr_ms'].append(out[f'snr_ms_{name}'])
      scores['snr_td'].append(out[f'snr_td_{name}'])
      if restored is None or (before, after) == (128, 128):
        restored = candidate
    out['snr_ms'] = np.mean(scores['snr_ms'], axis=0)
    out['snr_td'] = np.mean(scores['snr_td'], axis=0)
  if 'snr_ms' not in out:
    out['snr_ms'] = metrics.snr_ms(original, restored, sig)
    out['snr_td'] = metrics.snr_td(original, restored, sig)
  if return_restored:
    out['original'] = np.asarray(original)
    out['restored'] = np.asarray(restored)
  return out


def evaluate_dataset(data_dir, split: str, method: str, gap_ms: int = 64,
                     predict_fn: Optional[Callable] = None, config: config_lib.Config = None,
                     max_segments: int = 0, batch_size: int = 64, phase_method: str = None,
                     resume_path: str = None, progress: bool = True) -> dict:
  """`evaluate` over a dataset split; per-segment arrays concatenated, in file order.

  Windows come from tfrecords_tools.reader.evaluation_dataset (gap RMS >= 1e-4 for
  this gap length, §3.2); 'index' is each segment's position in them. max_segments > 0 takes that many at a fixed stride over the
  whole split (metrics.spread_indices), so every track is represented in proportion.
  With resume_path, the arrays so far are saved there (npz, temp file + rename) after
  every batch and a rerun with the same batch size and max_segments continues from them.
  """
  import os
  from tfrecords_tools import reader
  from tfrecords_tools.manifest import DatasetError, read_manifest

  manifest = read_manifest(data_dir)
  counts = manifest.get('splits', {}).get(split, {}) or {}
  available = counts.get(f'kept_{gap_ms}')
  if available is None:
    raise DatasetError(f'{data_dir}/manifest.json: no kept_{gap_ms} count for split {split!r}')
  chosen = None
  if max_segments and max_segments < available:
    chosen = metrics.spread_indices(available, max_segments)
  total = available if chosen is None else len(chosen)
  parts = {}
  done = 0
  if resume_path and os.path.exists(resume_path):
    with np.load(resume_path, allow_pickle=False) as saved:
      if (int(saved['batch_size']) == batch_size and 'max_segments' in saved.files
          and int(saved['max_segments']) == int(max_segments or 0)):
        parts = {k: [saved[k]] for k in saved.files
                 if k not in ('batch_size', 'n_fallback', 'max_segments')}
        parts['n_fallback'] = [saved['n_fallback']]
        done = len(parts['snr_ms'][0])
  ds = reader.evaluation_dataset(data_dir, split, gap_ms=gap_ms, batch_size=batch_size)
  first_index = 0  # index in the split of the batch's first record
  if done and chosen is None:
    ds = ds.skip(done // batch_size)
    first_index = done // batch_size * batch_size
  bar = None
  if progress:
    from tqdm import tqdm
    bar = tqdm(total=total, initial=done, unit='seg', desc=f'{method} {gap_ms} ms {data_dir}')
  pending = {'audio': [], 'track_id': [], 'offset': [], 'index': []}
  selected = first_index  # selected records met so far (all skipped ones were selected)

  def run_batch(audio, track_id, offset, index):
    nonlocal done
    out = evaluate(audio, method, gap_ms, predict_fn, config, phase_method)
    out['n_fallback'] = np.array([out.get('n_fallback', 0)])
    out['track_id'], out['offset'], out['index'] = track_id.astype(str), offset, index
    for k, v in out.items():
      parts.setdefault(k, []).append(np.asarray(v))
    done += len(audio)
    if bar is not None:
      bar.update(len(audio))
    if resume_path and len(audio) == batch_size:
      _save_npz(resume_path, {**{k: np.concatenate(v) for k, v in parts.items()},
                              'batch_size': np.array(batch_size),
                              'max_segments': np.array(int(max_segments or 0))})

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
    pending['audio'].append(batch['audio'].numpy()[take])
    pending['track_id'].append(batch['track_id'].numpy()[take])
    pending['offset'].append(batch['offset'].numpy()[take])
    pending['index'].append(index[take])
    while sum(len(a) for a in pending['audio']) >= batch_size:
      joined = {k: np.concatenate(v) for k, v in pending.items()}
      run_batch(*(joined[k][:batch_size] for k in ('audio', 'track_id', 'offset', 'index')))
      pending = {k: [v[batch_size:]] for k, v in joined.items()}
    if chosen is not None and selected >= total:
      break
  if pending['audio'] and sum(len(a) for a in pending['audio']):
    joined = {k: np.concatenate(v) for k, v in pending.items()}
    run_batch(joined['audio'], joined['track_id'], joined['offset'], joined['index'])
  if bar is not None:
    bar.close()
  result = {k: np.concatenate(v) for k, v in parts.items()}
  result['n_fallback'] = int(result.get('n_fallback', np.zeros(1)).sum())
  return result


def _save_npz(path: str, arrays: dict) -> None:
  """np.savez to a temp file, then rename (never a half-written file)."""
  from audio_context_encoder import atomic
  with atomic.replacing(path) as tmp:
    np.savez(tmp, **arrays)
