"""Timing helpers shared by the benchmarks."""

import os
import time


def pin_one_core():
  """Restricts this process (numpy, FFTW, TF) to one core; call before importing TF ops."""
  os.environ['OMP_NUM_THREADS'] = '1'
  os.environ['OPENBLAS_NUM_THREADS'] = '1'
  os.environ['MKL_NUM_THREADS'] = '1'
  if hasattr(os, 'sched_setaffinity'):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
  import tensorflow as tf  # after the variables above: TF reads them when it loads
  tf.config.threading.set_intra_op_parallelism_threads(1)
  tf.config.threading.set_inter_op_parallelism_threads(1)


def best_time(fn, repeats=5, warmup=1):
  """Best wall time of `fn()` over `repeats` runs, after `warmup` untimed runs."""
  for _ in range(warmup):
    fn()
  best = float('inf')
  for _ in range(repeats):
    t0 = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - t0)
  return best
