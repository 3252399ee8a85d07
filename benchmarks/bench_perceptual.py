"""What the perceptual score costs (issue 20): ViSQOL v3 per excerpt in each mode, and each
method's fill of one 3 s excerpt's three gaps (excerpts.PROTOCOL), measured in this process.

  python -m benchmarks.run_all perceptual      (make bench BENCH=perceptual)
"""

import time

import numpy as np

from audio_context_encoder.audio import audio_file
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder.methods import inpaint
from audio_context_encoder import methods
from audio_context_encoder.evaluation import perceptual
from benchmarks.common import best_time


def main():
  x = audio_file.glockenspiel_16k()[:excerpts.PROTOCOL.samples].astype(np.float64)
  ex = excerpts.Excerpt('gspi', 0.0, x)
  damaged = ex.damaged()
  for mode, seconds in (('audio', excerpts.PROTOCOL.seconds), ('speech', 1.0)):
    scorer = perceptual.Visqol(mode)
    n = int(seconds * excerpts.RATE)
    t0 = time.perf_counter()
    scorer.score(x[:n], damaged[:n], excerpts.RATE)  # builds the API, compiles numba's kernels
    first = time.perf_counter() - t0
    best = best_time(lambda: scorer.score(x[:n], damaged[:n], excerpts.RATE), repeats=5)
    print(f'ViSQOL {mode} mode ({scorer.rate // 1000} kHz), {seconds:g} s excerpt: '
          f'{best * 1e3:.0f} ms per score (best of 5; the first call in a process {first:.1f} s)')
  gaps = excerpts.PROTOCOL.gap_list()
  for name in ('network', 'interp', 'lpc'):
    method = methods.get(name)
    best = best_time(lambda: inpaint.fill_gaps(damaged, excerpts.RATE, gaps, method=method),
                     repeats=3)
    print(f'{name}: {best * 1e3:.0f} ms to fill the excerpt\'s {len(gaps)} gaps (best of 3)')


if __name__ == '__main__':
  main()
