"""Janssen's autoregressive inpainting (Janssen, Veldhuis, Vries, IEEE TASSP 1986), classic and
gap-wise (Mokrý & Rajmic, "On the Use of Autoregressive Methods for Audio Inpainting", EUSIPCO
2024, arXiv 2403.04433). Written from the equations (docs/janssen.md).

Janssen minimises the energy of the AR prediction error of a window x, gap included,

    Q(x, a) = || a * x ||^2      (the full convolution, a_0 = 1, order p),

over the AR coefficients a and the missing samples x_m in turn (block coordinate descent):

  * AR step: a from the current x by an estimator. The autocorrelation method (Yule-Walker on
    the biased autocorrelation) minimises exactly this Q over a, so with it Q never rises; Burg
    and the covariance method are the other estimators the papers compare.
  * Signal step: with b_k = sum_j a_j a_{j+k} (k = 0..p), Q = x^T T x with T the symmetric
    banded Toeplitz matrix T_ij = b_|i-j|. Its minimum over the missing samples solves
    T_mm x_m = -T_mo x_o. For one contiguous gap T_mm is itself Toeplitz (symmetric positive
    definite): Levinson's recursion solves it in O(n^2) (scipy.linalg.solve_toeplitz) instead of
    a banded Cholesky's O(n p^2); T_mo x_o is one convolution of the observed samples (zeros in
    the gap) with the symmetric b, by FFT.

Classic ('janssen'): the signal is cut into Hann-windowed blocks of `window` samples every `hop`;
each block that holds missing samples gets its own Janssen, and the blocks are overlap-added
(divided by the sum of the squared windows, so known samples come back exactly). Gap-wise
('janssen-gapwise'): one window, the gap and `context` samples on each side.
"""

import dataclasses
from typing import List, Tuple

import numpy as np
import scipy.linalg as sla
from scipy import signal as sps

from audio_context_encoder.config import JanssenConfig

ESTIMATORS = ('autocorrelation', 'burg', 'covariance')


def ar_coefficients(x: np.ndarray, p: int, estimator: str = 'autocorrelation') -> np.ndarray:
  """AR coefficients [p + 1] (a_0 = 1) of one signal, by `estimator` (ESTIMATORS)."""
  x = np.asarray(x, np.float64)
  if estimator == 'autocorrelation':
    spectrum = np.fft.rfft(x, 2 * len(x))
    r = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2)[:p + 1]
    if r[0] <= 0:
      return _silent(p)
    r = r.copy()
    r[0] *= 1 + 1e-12  # the smallest lift that keeps Levinson's recursion on silence-edged audio
    return np.concatenate([[1.0], sla.solve_toeplitz(r[:p], -r[1:p + 1])])
  if estimator == 'burg':
    from audio_context_encoder.dsp import lpc  # Burg's recursion (numba kernel when there)
    return lpc.burg(x[None], p)[0]
  if estimator == 'covariance':
    return _covariance(x, p)
  raise ValueError(f'estimator must be one of {ESTIMATORS}, got {estimator!r}')


def _silent(p: int) -> np.ndarray:
  a = np.zeros(p + 1)
  a[0] = 1.0
  return a


def _covariance(x: np.ndarray, p: int) -> np.ndarray:
  """The covariance method: least squares of the forward error over n = p..N-1 (no window).
  Its p x p normal matrix C_ij = sum_n x_{n-i} x_{n-j} (i, j = 1..p) is built from one column
  by the recursion C_{i+1,j+1} = C_ij + x_{p-1-i} x_{p-1-j} - x_{N-1-i} x_{N-1-j}."""
  n = len(x)
  c0 = np.array([x[p - j:n - j] @ x[p - 1:n - 1] for j in range(1, p + 1)])  # C_{1, j}
  rhs = -np.array([x[p - i:n - i] @ x[p:n] for i in range(1, p + 1)])
  C = np.empty((p, p))
  C[0] = c0
  head, tail = x[p - 1::-1][:p], x[n - 1::-1][:p]  # x_{p-1-i}, x_{N-1-i} for i = 0..p-1
  for i in range(1, p):
    C[i, i:] = C[i - 1, i - 1:-1] + head[i] * head[i:p] - tail[i] * tail[i:p]
    C[i:, i] = C[i, i:]
  C[np.diag_indices(p)] *= 1 + 1e-12
  try:
    return np.concatenate([[1.0], sla.cho_solve(sla.cho_factor(C), rhs)])
  except np.linalg.LinAlgError:
    return _silent(p)


def gap_step(x: np.ndarray, first: int, end: int, a: np.ndarray) -> np.ndarray:
  """The samples of [first, end) that minimise ||a * x||^2 with the others as they are in x."""
  p = len(a) - 1
  b = sps.fftconvolve(a, a[::-1])[p:]  # b_0..b_p
  n = end - first
  column = np.zeros(n)
  column[:min(n, p + 1)] = b[:min(n, p + 1)]
  known = np.array(x, np.float64, copy=True)
  known[first:end] = 0
  lo, hi = max(first - p, 0), min(end + p, len(x))  # T_mo x_o only needs p samples around the gap
  around = sps.fftconvolve(known[lo:hi], np.concatenate([b[::-1], b[1:]]))
  rhs = -around[p + first - lo:p + end - lo]
  return sla.solve_toeplitz(column, rhs)


def objective(x: np.ndarray, a: np.ndarray) -> float:
  """Q(x, a) = ||a * x||^2, the full convolution's energy."""
  return float(np.sum(sps.fftconvolve(x, a) ** 2))


def janssen(x: np.ndarray, first: int, end: int, cfg: JanssenConfig = JanssenConfig(),
            trace: bool = False):
  """Janssen on one window x with the gap [first, end) (its samples are not read). Returns the
  window filled, and with trace the objective Q after each iteration."""
  y = np.array(x, np.float64, copy=True)
  y[first:end] = 0
  if not np.any(y):
    return (y, []) if trace else y
  p = min(cfg.p, len(y) - 1)
  values = []
  for _ in range(cfg.iterations):
    a = ar_coefficients(y, p, cfg.estimator)
    y[first:end] = gap_step(y, first, end, a)
    if trace:
      values.append(objective(y, a))
  return (y, values) if trace else y


def _samples(ms: float, rate: int) -> int:
  return int(round(ms * rate / 1000))


def gapwise(x: np.ndarray, first: int, end: int, cfg: JanssenConfig = JanssenConfig(),
            rate: int = 16000) -> np.ndarray:
  """Gap-wise Janssen: one window, the gap and cfg.context_ms of audio on each side (less at the
  signal's ends), x at `rate`. Returns the gap's samples."""
  context = _samples(cfg.context_ms, rate)
  lo, hi = max(first - context, 0), min(end + context, len(x))
  return janssen(x[lo:hi], first - lo, end - lo, cfg)[first - lo:end - lo]


def blocks(first: int, end: int, n: int, window: int, hop: int) -> List[Tuple[int, int]]:
  """[start, stop) of the classic method's blocks that touch the gap: a hop grid from 0, each
  block `window` long (cut at the signal's ends)."""
  out = []
  for start in range(max(0, (first - window) // hop * hop), end, hop):
    stop = start + window
    if stop > first and start < end and start >= 0 and stop <= n:
      out.append((start, stop))
  return out


def classic(x: np.ndarray, first: int, end: int, cfg: JanssenConfig = JanssenConfig(),
            rate: int = 16000) -> np.ndarray:
  """Window-wise Janssen (the Audio Inpainting Toolbox's way): every Hann-windowed block that
  touches the gap is inpainted on its own, then the blocks are overlap-added and divided by the
  sum of the squared windows; x at `rate`. Returns the gap's samples."""
  window, hop = _samples(cfg.window_ms, rate), _samples(cfg.hop_ms, rate)
  hann = sps.get_window('hann', window)  # periodic: its shifts by window/4 sum evenly
  acc = np.zeros(end - first)
  weight = np.zeros(end - first)
  block_cfg = dataclasses.replace(cfg, p=min(cfg.p, window // 2))
  for start, stop in blocks(first, end, len(x), window, hop):
    block = np.asarray(x[start:stop], np.float64) * hann
    g0, g1 = max(first, start) - start, min(end, stop) - start
    filled = janssen(block, g0, g1, block_cfg)
    acc[g0 + start - first:g1 + start - first] += filled[g0:g1] * hann[g0:g1]
    weight[g0 + start - first:g1 + start - first] += hann[g0:g1] ** 2
  with np.errstate(invalid='ignore', divide='ignore'):
    out = np.where(weight > 1e-12, acc / np.maximum(weight, 1e-300), 0.0)
  return out


VARIANTS = {'classic': classic, 'gapwise': gapwise}


def _fill_rows(segments: np.ndarray, first: int, end: int, variant: str,
               cfg: JanssenConfig) -> np.ndarray:
  """The gaps [first, end) of segments [B, L], one after the other (a worker's share)."""
  fill = VARIANTS[variant]
  return np.stack([fill(s, first, end, cfg) for s in np.asarray(segments, np.float64)])


def inpaint(segments, first: int, end: int, variant: str = 'gapwise',
            cfg: JanssenConfig = JanssenConfig(), workers: int = None) -> np.ndarray:
  """Segments [B, L] with the gap [first, end) filled by Janssen (`variant`: VARIANTS), the rest
  bit-exact; the segments are shared over compute's worker processes (make tables)."""
  from audio_context_encoder.common import compute
  segments = np.atleast_2d(np.asarray(segments))
  out = np.array(segments, np.float64, copy=True)
  out[:, first:end] = compute.map_rows(_fill_rows, (out,), workers, min_rows=2, first=first,
                                       end=end, variant=variant, cfg=cfg)
  return out.astype(segments.dtype, copy=False)
