"""Where batched numerical work runs: the backend choice and CPU worker processes.

Phase retrieval and LPC have two backends with the same results:
  * 'numpy': numpy/scipy on the CPU; a batch can be split over worker processes
    (set_workers; make tables uses one per core), because the PGHI heap and the
    Burg recursion are thousands of small numpy calls each, which hold the GIL
    (threads would not scale);
  * 'tf': TensorFlow graphs (phase_tf.py, lpc_tf.py) that run on a GPU when one
    is visible.
'auto' picks 'tf' when TensorFlow is already imported and sees a GPU, else 'numpy'
(measured faster on CPU: benchmarks/bench_reconstruction.py).

Inside the numpy backend, the sequential loops (the PGHI heap, Burg's recursion, the
all-pole extrapolation, FGLA's elementwise steps) run as numba kernels when numba is
importable (it comes with librosa, the test extra `make` installs; it is not a dependency):
compiled() gives the kernel, or None, and the caller then keeps its batched-numpy path
(same results up to rounding, slower).
"""

import atexit
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

BACKENDS = ('auto', 'numpy', 'tf')
_POOL = {}
_WORKERS = [1]
_KERNELS = {}  # python function -> its numba dispatcher
_COMPILED = [True]  # use_compiled(); map_rows hands the setting to its workers (_run)


def set_workers(n: int = None) -> None:
  """Default worker processes of map_rows (None: one per usable core).

  The default is 1 (work stays in this process): worker processes are started
  with 'spawn', which re-imports the caller's main module, so only entry points
  with an `if __name__ == '__main__'` guard turn them on (experiments/tables.py).
  """
  _WORKERS[0] = cores() if n is None else max(1, int(n))


def use_compiled(on: bool = True) -> bool:
  """Turns the numba kernels on or off (the tests run both paths); returns the previous setting."""
  previous, _COMPILED[0] = _COMPILED[0], bool(on)
  return previous


def compiled(fn, exact: bool = False):
  """fn compiled by numba (nopython, cached on disk) when numba is importable and use_compiled
  is on, else None. Sums may be reassociated and multiply-adds fused (vectorised loops),
  unless `exact`: then every float operation is the one written, rounded as in numpy."""
  if not _COMPILED[0]:
    return None
  if fn not in _KERNELS:
    try:
      import numba  # optional: see the module docstring
    except ImportError:
      _KERNELS[fn] = None
    else:
      _KERNELS[fn] = numba.njit(fn, cache=True, nogil=True,
                                fastmath=set() if exact else {'reassoc', 'contract'})
  return _KERNELS[fn]


def resolve(backend: str = 'auto') -> str:
  """'numpy' or 'tf' for `backend` ('auto': tf only with an already-imported TF that sees a GPU)."""
  if backend not in BACKENDS:
    raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
  if backend != 'auto':
    return backend
  tf = sys.modules.get('tensorflow')
  if tf is not None and tf.config.list_physical_devices('GPU'):
    return 'tf'
  return 'numpy'


def cores() -> int:
  """CPU cores this process may use."""
  return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_deferred():
  """Ctrl-C and SIGTERM wait until the block is left: submitting to a pool may spawn a worker,
  and an interrupt in the middle of a spawn leaves a half-started child that prints a
  traceback (it reads its set-up from a pipe the parent never finished writing)."""
  previous = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
  try:
    yield
  finally:
    signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def die_with_parent(parent: int = None) -> None:
  """A worker process's initializer: it dies when its parent does (a SIGKILLed parent cannot
  stop it), and Ctrl-C in the terminal is the parent's to handle, not every worker's.

  Linux: the kernel sends SIGKILL at the parent's death (prctl PR_SET_PDEATHSIG); elsewhere,
  and in case the parent died before this ran, a thread polls the parent pid every second."""
  signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)  # spawned inside signals_deferred
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  parent = parent or os.getppid()
  try:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
  except (OSError, AttributeError):
    pass

  def watch():
    while os.getppid() == parent:
      time.sleep(1.0)
    os._exit(1)

  if os.getppid() != parent:
    os._exit(1)
  threading.Thread(target=watch, daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
  """Worker processes that die with this one (die_with_parent); spawned, because the parent may
  hold TensorFlow's threads, which a fork would copy half-initialised."""
  return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context('spawn'),
                             initializer=die_with_parent, initargs=(os.getpid(),))


def kill_pool(pool: ProcessPoolExecutor) -> None:
  """Stops a pool now (SIGTERM, Ctrl-C): its workers are killed, queued work dropped."""
  for process in list(getattr(pool, '_processes', {}).values()):
    if process.is_alive():
      process.kill()
  pool.shutdown(wait=False, cancel_futures=True)


def _pool(workers: int):
  if workers not in _POOL:
    _POOL[workers] = worker_pool(workers)
  return _POOL[workers]


def stop_workers() -> None:
  """Kills map_rows' worker processes (an entry point interrupted mid-batch)."""
  for pool in _POOL.values():
    kill_pool(pool)
  _POOL.clear()


@atexit.register
def _shutdown():
  for pool in _POOL.values():
    pool.shutdown(cancel_futures=True)
  _POOL.clear()


def _run(compiled_on, fn, *args, **kwargs):
  """fn in a worker process, with the caller's use_compiled setting."""
  use_compiled(compiled_on)
  return fn(*args, **kwargs)


def map_rows(fn, arrays, workers: int = None, min_rows: int = 8, row_offset: str = None, **kwargs):
  """fn(*arrays, **kwargs) with every array split by rows over `workers` processes, results joined.

  fn must be a module-level function returning an array or a tuple of arrays with the
  batch first. workers: default set_workers() (1); 1, or fewer than 2 * min_rows rows, runs here.
  row_offset names a keyword of fn that gets each part's first row (for per-row seeding),
  so that a row's result does not depend on the split.
  """
  workers = _WORKERS[0] if workers is None else workers
  n = len(arrays[0])
  workers = max(1, min(workers, n // min_rows))
  if workers == 1:
    return fn(*arrays, **kwargs)
  edges = np.linspace(0, n, workers + 1).astype(int)
  with signals_deferred():
    parts = [_pool(workers).submit(_run, _COMPILED[0], fn, *[a[lo:hi] for a in arrays], **kwargs,
                                   **({row_offset: int(lo)} if row_offset else {}))
             for lo, hi in zip(edges[:-1], edges[1:])]
  try:
    results = [p.result() for p in parts]
  except BrokenProcessPool:
    _POOL.pop(workers, None)  # a worker died (killed, out of memory): start afresh next time
    raise
  if isinstance(results[0], tuple):
    return tuple(np.concatenate(r) for r in zip(*results))
  return np.concatenate(results)
