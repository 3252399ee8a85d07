"""`python -m audio_context_encoder evaluate DIR`: the paper's protocol on a user's folder.

Each audio file is decoded to mono 16 kHz and cut exactly as the datasets are
(tfrecords_tools.segmenting: silence rule, a window every 32 ms, gap RMS >= 1e-4),
then scored by audio_context_encoder.evaluation.evaluate, the function behind
`make tables`, so the numbers are the tables' numbers on the same windows.
"""

import json
import os
import pathlib

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder import evaluation
from audio_context_encoder.audio_file import UserError

BATCH = 64


def audio_files(folder: str):
  from tfrecords_tools.audio_io import AUDIO_EXTENSIONS
  root = pathlib.Path(folder)
  if not root.is_dir():
    raise UserError(f'{folder}: not a folder')
  files = sorted(p for p in root.rglob('*') if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
  if not files:
    raise UserError(f'{folder}: no audio files ({", ".join(AUDIO_EXTENSIONS)}) found')
  return files


def windows_of(path, gap_ms: int, cfg: config_lib.Config):
  """(windows with margins [N, L + 2 margin], offsets [N]) of one file, as the datasets cut them."""
  from tfrecords_tools import audio_io, segmenting
  x = audio_io.load(path, cfg.signal.sample_rate)
  seg = segmenting.segment_track(x, cfg.signal.L, cfg.data)
  rms = seg.rms_64 if gap_ms == 64 else seg.rms_48
  offsets = seg.offsets[rms >= cfg.data.gap_rms_threshold]
  return segmenting.extract(x, offsets, cfg.signal.L, cfg.data.eval_margin), offsets


def evaluate_folder(folder: str, method: str, gap_ms: int, predict_fn=None, max_segments=None,
                    progress: bool = True) -> dict:
  """Per-segment SNRs over every audio file of `folder` (recursively, sorted by path)."""
  from tfrecords_tools.audio_io import AudioDecodeError
  from tqdm import tqdm
  cfg = config_lib.paper()
  rows = {'file': [], 'offset': [], 'snr_ms': [], 'snr_td': []}
  skipped = []
  files = audio_files(folder)
  for path in tqdm(files, unit='file', desc=f'{method} {gap_ms} ms', disable=not progress):
    try:
      windows, offsets = windows_of(path, gap_ms, cfg)
    except AudioDecodeError as e:
      skipped.append(str(e))
      continue
    if max_segments is not None:
      keep = max(0, max_segments - len(rows['snr_ms']))
      windows, offsets = windows[:keep], offsets[:keep]
    for i in range(0, len(windows), BATCH):
      out = evaluation.evaluate(windows[i:i + BATCH], method, gap_ms, predict_fn, cfg)
      rows['snr_ms'] += out['snr_ms'].tolist()
      rows['snr_td'] += out['snr_td'].tolist()
    rows['offset'] += offsets.tolist()
    rows['file'] += [str(path)] * len(offsets)
    if max_segments is not None and len(rows['snr_ms']) >= max_segments:
      break
  return {'rows': rows, 'skipped': skipped, 'n_files': len(files)}


def summary(result: dict, method: str, gap_ms: int) -> dict:
  ms, td = np.asarray(result['rows']['snr_ms']), np.asarray(result['rows']['snr_td'])
  stats = lambda v: {'mean': float(np.mean(v)), 'std': float(np.std(v))} if len(v) else None
  return {'method': method, 'gap_ms': gap_ms, 'segments': int(len(ms)), 'files': result['n_files'],
          'skipped_files': result['skipped'], 'snr_ms': stats(ms), 'snr_td': stats(td)}


def run(args) -> int:
  predict_fn = None
  if args.method == 'network':
    from audio_context_encoder.fillers import NetworkFiller
    net = NetworkFiller(args.model)  # checks the model file and loads it
    predict_fn = evaluation.network_predictor(net.model, net.cfg)
  result = evaluate_folder(args.folder, args.method, args.gap_ms, predict_fn, args.max_segments)
  s = summary(result, args.method, args.gap_ms)
  for line in s['skipped_files']:
    print(f'skipped: {line}')
  if not s['segments']:
    raise UserError(f'{args.folder}: no segment passed the silence rule and the gap-RMS filter')
  print(f"{args.method}, {args.gap_ms} ms gaps, {s['segments']} segments from {s['files']} files: "
        f"SNR_MS {s['snr_ms']['mean']:.2f} dB (std {s['snr_ms']['std']:.2f}), "
        f"SNR_TD {s['snr_td']['mean']:.2f} dB (std {s['snr_td']['std']:.2f})")
  if args.json:
    tmp = args.json + '.tmp'
    with open(tmp, 'w') as f:
      json.dump({'summary': s, 'segments': result['rows']}, f)
    os.replace(tmp, args.json)
  return 0
