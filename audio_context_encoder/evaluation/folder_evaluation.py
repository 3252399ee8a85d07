"""`python -m audio_context_encoder evaluate DIR`: the paper's protocol on a user's folder.

Each audio file is decoded to mono 16 kHz and cut exactly as the datasets are
(segmenting: silence rule, a window every 32 ms, gap RMS >= 1e-4),
then scored by audio_context_encoder.evaluation.evaluation.evaluate, the function behind
`make tables`, and summarised by metrics.summary, as the tables are: the numbers are
the tables' numbers on the same windows. Files that cannot be decoded or are shorter
than one 320 ms window are skipped and reported. --max-segments takes segments at a
fixed stride over all files (metrics.spread_indices), not the first ones. The long-gap
methods are scored on the same windows (64 or 48 ms gaps); a method that needs more context
than the windows hold is refused.
"""

import os
import pathlib

import numpy as np
from tqdm import tqdm

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_io
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.evaluation import metric_registry
from audio_context_encoder.dsp import metrics
from audio_context_encoder.data import segmenting
from audio_context_encoder import config as config_lib
from audio_context_encoder import methods as methods_lib
from audio_context_encoder.audio.audio_file import quiet_stderr
from audio_context_encoder.common.errors import AudioDecodeError, UserError

BATCH = 64


class Skip(Exception):
  """A file that is reported and left out (message names it)."""


def audio_files(folder: str):
  root = pathlib.Path(folder)
  if not root.is_dir():
    raise UserError(f'{folder}: not a folder')
  files = sorted(p for p in root.rglob('*') if p.is_file() and p.suffix.lower() in audio_io.AUDIO_EXTENSIONS
                 and not p.name.startswith(atomic.PREFIX))
  if not files:
    raise UserError(f'{folder}: no audio files ({", ".join(audio_io.AUDIO_EXTENSIONS)}) found')
  return files


def _load(path, cfg: config_lib.Config):
  try:
    with quiet_stderr():
      x = audio_io.load(path, cfg.signal.sample_rate)
  except AudioDecodeError as e:
    raise Skip(str(e)) from None
  if len(x) < cfg.signal.L:
    raise Skip(f'{path}: shorter than one {cfg.signal.L * 1000 // cfg.signal.sample_rate} ms '
               f'window ({len(x) * 1000 / cfg.signal.sample_rate:.0f} ms)')
  return x


def _offsets(x, gap_ms: int, cfg: config_lib.Config):
  seg = segmenting.segment_track(x, cfg.signal.L, cfg.data)
  rms = seg.rms_64 if gap_ms == 64 else seg.rms_48
  return seg.offsets[rms >= cfg.data.gap_rms_threshold]


def windows_of(path, gap_ms: int, cfg: config_lib.Config):
  """(windows with margins [N, L + 2 margin], offsets [N]) of one file, as the datasets cut them."""
  x = _load(path, cfg)
  offsets = _offsets(x, gap_ms, cfg)
  return segmenting.extract(x, offsets, cfg.signal.L, cfg.data.eval_margin), offsets


def evaluate_folder(folder: str, method: methods_lib.Method, gap_ms: int, max_segments=None,
                    progress: bool = True) -> dict:
  """Per-segment SNRs over every audio file of `folder` (recursively, sorted by path).

  Returns rows (file, offset and every registered segment metric per segment: snr_ms,
  snr_td, ...), the skipped files' messages and n_files, the number of files that were read and
  cut (skipped ones not counted).
  """
  cfg = config_lib.paper()  # the datasets' cut (§3.2); the method carries its own config
  scores = [m.name for m in metric_registry.of_kind(metric_registry.SEGMENT)]
  rows = {'file': [], 'offset': [], **{name: [] for name in scores}}
  skipped, n_files = [], 0
  files = audio_files(folder)
  keep = None  # {path: local indices} when max_segments limits the run
  if max_segments:
    counts = {}
    for path in tqdm(files, unit='file', desc='counting segments', disable=not progress):
      try:
        counts[path] = len(_offsets(_load(path, cfg), gap_ms, cfg))
      except Skip:
        continue
    total = sum(counts.values())
    chosen = metrics.spread_indices(total, max_segments)
    starts = np.cumsum([0] + list(counts.values()))
    keep = {p: chosen[(chosen >= a) & (chosen < b)] - a
            for p, a, b in zip(counts, starts[:-1], starts[1:])}
  for path in tqdm(files, unit='file', desc=f'{method.name} {gap_ms} ms', disable=not progress):
    try:
      x = _load(path, cfg)
    except Skip as e:
      skipped.append(str(e))
      continue
    n_files += 1
    offsets = _offsets(x, gap_ms, cfg)
    if keep is not None:
      offsets = offsets[keep.get(path, np.zeros(0, np.int64))]
    windows = segmenting.extract(x, offsets, cfg.signal.L, cfg.data.eval_margin)
    for i in range(0, len(windows), BATCH):
      out = evaluation.evaluate(windows[i:i + BATCH], method, gap_ms)
      for name in scores:
        rows[name] += out[name].tolist()
    rows['offset'] += offsets.tolist()
    rows['file'] += [str(path)] * len(offsets)
  return {'rows': rows, 'skipped': skipped, 'n_files': n_files}


def summary(result: dict, method: str, gap_ms: int) -> dict:
  """The tables' summary (metrics.summary) of every segment metric, with what it covers."""
  rows = result['rows']
  return {'method': method, 'gap_ms': gap_ms, 'segments': len(rows['offset']),
          'files': result['n_files'], 'files_with_segments': len(set(rows['file'])),
          'skipped_files': result['skipped'],
          **{m.name: metrics.summary(rows[m.name])
             for m in metric_registry.of_kind(metric_registry.SEGMENT)}}


def perceptual_methods(args) -> dict:
  """{name: Method}: --method and the --compare ones, in that order, each once."""
  names = [args.method] + [n.strip() for n in (args.compare or '').split(',') if n.strip()]
  unknown = [n for n in names if n not in methods_lib.all_names()]
  if unknown:
    raise UserError(f'--compare: unknown method {unknown[0]!r}; choose from '
                    f'{", ".join(methods_lib.all_names())}')
  return {n: methods_lib.get(n, model=args.model if n == args.method else None)
          for n in dict.fromkeys(names)}


def run_perceptual(args, chosen: dict) -> None:
  """The excerpt protocol on the folder's files; the excerpts, their table and a page in DIR."""
  from audio_context_encoder.evaluation import excerpts
  from audio_context_encoder.evaluation import listening
  from audio_context_encoder.evaluation import perceptual
  files = [str(p) for p in audio_files(args.folder)]
  shown = excerpts.file_excerpts(files, args.excerpts, log=lambda m: print(m))
  name = pathlib.Path(args.folder).resolve().name or 'excerpts'
  record = excerpts.run(shown, chosen, perceptual.Visqol('audio'),
                        os.path.join(args.perceptual, name), title=f'{args.folder}')
  print(excerpts.table(record))
  print(f'wrote {listening.build(args.perceptual, f"Listening page: {args.folder}")}')


def run(args) -> int:
  if args.max_segments is not None and args.max_segments < 1:
    raise UserError(f'--max-segments {args.max_segments}: give 1 or more (leave it out for '
                    'every segment)')
  methods_lib.check_model(args.method, args.model)
  chosen = None
  if args.perceptual:
    if args.excerpts < 1:
      raise UserError(f'--excerpts {args.excerpts}: give 1 or more')
    if os.path.exists(args.perceptual) and not os.path.isdir(args.perceptual):
      raise UserError(f'--perceptual {args.perceptual}: is a file, not a folder')
    os.makedirs(args.perceptual, exist_ok=True)
    atomic.check_writable(os.path.join(args.perceptual, 'index.html'))
    chosen = perceptual_methods(args)
  if args.json:
    atomic.check_writable(args.json)  # before the work, not after it
  method = methods_lib.get(args.method, model=args.model)  # checks the model file and loads it
  sig = config_lib.signal_config(args.gap_ms)
  if method.needs(sig.Lg)[0] > sig.Lc:  # the windows are the paper's; a method may need more
    raise UserError(f'{args.method} needs {method.needs(sig.Lg)[0] * 1000 / sig.sample_rate:g} ms '
                    f'of context on each side of a {args.gap_ms} ms gap; evaluate cuts the '
                    f"paper's windows, {sig.Lc * 1000 // sig.sample_rate} ms on each side")
  result = evaluate_folder(args.folder, method, args.gap_ms, args.max_segments)
  s = summary(result, args.method, args.gap_ms)
  for line in s['skipped_files']:
    print(f'skipped: {line}')
  if not s['files']:
    raise UserError(f'{args.folder}: none of its {len(s["skipped_files"])} audio file(s) could '
                    'be read and cut (each is named above)')
  if not s['segments']:
    raise UserError(f'{args.folder}: no segment passed the silence rule and the gap-RMS filter')
  scored = metric_registry.of_kind(metric_registry.SEGMENT)
  means = ', '.join(f"{m.label} {s[m.name]['mean']:.2f}{' ' + m.unit if m.unit else ''} "
                    f"(std {s[m.name]['std']:.2f})" for m in scored)
  first = scored[0]  # the tables' score (SNR_MS)
  n_bad = s[first.name]['n_nonfinite']
  nonfinite = f'; {n_bad} non-finite {first.label} left out' if n_bad else ''
  print(f"{args.method}, {args.gap_ms} ms gaps, {s['segments']} segments from {s['files_with_segments']} "
        f"of {s['files']} files read ({len(s['skipped_files'])} skipped): {means}{nonfinite}")
  if args.json:
    atomic.write_json(args.json, {'summary': s, 'segments': result['rows']})
  if chosen is not None:
    run_perceptual(args, chosen)
  return 0
