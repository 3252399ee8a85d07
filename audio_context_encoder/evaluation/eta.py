"""How long an evaluation over whole datasets will take, estimated before it starts.

`make tables` runs up to eight jobs (dataset x table x method) over test splits of
up to ~10^6 segments. Before the first one, experiments/tables.py times one
batch of each (method, gap length) on synthetic windows with the same code path
(evaluation.evaluate), multiplies by the segment counts of the manifests and
prints the total; each job then shows a progress bar with its own ETA.
"""

import time

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.data.manifest import read_manifest


def segment_count(data_dir, split: str, gap_ms: int, max_segments: int = 0) -> int:
  """Windows evaluation_dataset yields for this split and gap length (manifest counts)."""
  counts = read_manifest(data_dir).get('splits', {}).get(split, {}) or {}
  total = int(counts.get(f'kept_{gap_ms}', counts.get('records', 0)) or 0)
  return min(total, max_segments) if max_segments else total


def probe_windows(n: int, seed: int = 0) -> np.ndarray:
  """n synthetic evaluation windows (segment + 256-sample margins): tones in noise."""
  sig = config_lib.signal_config(64)
  rng = np.random.default_rng(seed)
  length = sig.L + 2 * config_lib.DataConfig().eval_margin
  t = np.arange(length) / sig.sample_rate
  freqs = rng.uniform(100, 4000, (n, 3, 1))
  tones = np.sin(2 * np.pi * freqs * t + rng.uniform(0, 2 * np.pi, (n, 3, 1))).sum(axis=1)
  return (0.2 * tones + 0.01 * rng.standard_normal((n, length))).astype(np.float32)


def seconds_per_segment(method: str, gap_ms: int, predict_fn=None, cfg=None, batch: int = 64,
                        phase_method: str = None) -> float:
  """Wall seconds per segment of evaluation.evaluate on one batch (after a small warm-up call)."""
  windows = probe_windows(batch)
  run = lambda w: evaluation.evaluate(w, method, gap_ms, predict_fn, cfg, phase_method)
  run(windows[:16])  # worker processes, graph tracing: once per run, not per segment
  t0 = time.perf_counter()
  run(windows)
  return (time.perf_counter() - t0) / batch


def format_seconds(seconds: float) -> str:
  seconds = int(round(seconds))
  if seconds >= 3600:
    return f'{seconds // 3600} h {seconds % 3600 // 60:02d} min'
  if seconds >= 60:
    return f'{seconds // 60} min {seconds % 60:02d} s'
  return f'{seconds} s'


def estimate(jobs, rates) -> str:
  """A report of the total: jobs [(label, n_segments, rate_key)], rates {rate_key: s per segment}.

  A lower bound, and said to be one: the timed batch is the methods' work on windows already in
  memory (after a warm-up batch); reading the records, saving the per-segment values after
  every batch, the tones and the figures come on top (measured: the real runs took about twice
  the estimate on the stand-ins)."""
  lines, total = [], 0.0
  for label, n, key in jobs:
    seconds = n * rates[key]
    total += seconds
    lines.append(f'  {label}: {n:,} segments x {1e3 * rates[key]:.1f} ms = {format_seconds(seconds)}')
  return '\n'.join([f'estimated time: at least {format_seconds(total)} (the methods alone, from one '
                    'timed batch each; reading the records, saving and the figures come on top)']
                   + lines)
