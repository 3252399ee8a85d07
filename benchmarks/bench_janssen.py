"""Janssen per 64 ms gap beside LPC (issue 21), on one core, at the table settings
(config.JANSSEN), measured in this process; and what cutting the iterations from the papers' 20
to the default 10 costs in SNR on real music.

  python -m benchmarks.run_all janssen      (make bench BENCH=janssen)
"""

import dataclasses
import time

import numpy as np

from benchmarks.common import pin_one_core

pin_one_core()

from audio_context_encoder import config  # noqa: E402
from audio_context_encoder.dsp import lpc
from audio_context_encoder.dsp import metrics
from audio_context_encoder.dsp import janssen  # noqa: E402
from audio_context_encoder.audio.audio_file import glockenspiel_16k  # noqa: E402


def segments(n: int = 32) -> np.ndarray:
  """n 320 ms segments of ltfatpy's glockenspiel (real music), spread over the recording."""
  x = glockenspiel_16k()
  starts = np.linspace(0, len(x) - 5120, n).astype(int)
  return np.stack([x[s:s + 5120] for s in starts])


def per_gap(fn, segs) -> float:
  t0 = time.perf_counter()
  fn(segs)
  return (time.perf_counter() - t0) / len(segs)


def main():
  sig = config.signal_config(64)
  segs = segments()
  first, end = sig.Lc, sig.Lc + sig.Lg
  rows = {'lpc (order 1000)': lambda s: lpc.lpc_inpaint(s, sig, workers=1)[0]}
  for variant in ('gapwise', 'classic'):
    for it in (config.JANSSEN.iterations, 20):
      cfg = dataclasses.replace(config.JANSSEN, iterations=it)
      rows[f'janssen {variant}, p {cfg.p}, {it} iterations'] = (
          lambda s, v=variant, c=cfg: janssen.inpaint(s, first, end, v, c, workers=1))
  rows['lpc (order 1000)'](segs[:2])  # numba's kernels compile once
  for name, fn in rows.items():
    seconds = per_gap(fn, segs)
    restored = fn(segs)
    snr_td = metrics.summary(metrics.snr_td(segs, restored, sig))['mean']
    snr_ms = metrics.summary(metrics.snr_ms(segs, restored, sig))['mean']
    print(f'{name}: {seconds * 1e3:.1f} ms per 64 ms gap (one core); on {len(segs)} glockenspiel '
          f'segments SNR_TD {snr_td:.2f} dB, SNR_MS {snr_ms:.2f} dB')


if __name__ == '__main__':
  main()
