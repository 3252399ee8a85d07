"""LPC reference method (paper §3.5; the authors' MATLAB script), batched numpy float64.

For each gap: Burg's method of order 1000 on the context before the gap and on
the time-reversed context after it; each all-pole filter extrapolates Lg samples
from the filter state given by the last 1000 context samples (MATLAB
filtic/filter, scipy lfiltic/lfilter with zero input); the backward prediction
is reversed; the two are mixed with w = cos(linspace(0, pi/2, Lg))^2:
gap = w * forward + reverse(w) * backward. Contexts are the whole Lc samples per
side (2048 for 64 ms, 2176 for 48 ms): "the same duration as for our context
encoder" (§3.5).

Burg follows Marple's recursion (as librosa.lpc does), vectorised over a batch
of contexts (each order's error update is one batched 2 x 2 matmul); the
extrapolation is a batched recursion instead of one lfilter call per context.
With numba (compute.compiled) both run as kernels instead, context after context
in cache-resident buffers with vectorised sums: same recursion, other rounding.

Degenerate contexts: a constant context (silence included) has no spectrum to
model, and a fit whose prediction is not finite or grows beyond 100 x the
context's peak is unusable. Both get the fallback "hold the last context sample"
(zero for silence, the exact continuation of a constant) and are counted.
"""

import numpy as np

from audio_context_encoder.common import compute
from audio_context_encoder.dsp import _kernels
from audio_context_encoder.config import BURG_EXACT, SignalConfig

_BLOWUP = 100.0  # a prediction this many times louder than its context is a failed fit
# Contexts per Burg call: per order the loop costs ~15 numpy calls plus passes over the
# errors; 48 was measured faster than 8..24 and as fast as 96 on a 2-core EPYC (issue 12).
_CHUNK = 48


def burg_start(x, order: int):
  """(x as float64 [B, n], coefficient buffers a and a_prev [order + 1, B] with a_0 = 1, swapped
  each order): the checked start of Burg's recursion, shared with reference.burg."""
  x = np.atleast_2d(np.asarray(x, np.float64))
  n = x.shape[1]
  if not 0 < order < n:
    raise ValueError(f'order must be in [1, {n - 1}] for {n}-sample contexts, got {order}')
  a = np.zeros((order + 1, x.shape[0]))  # [coefficient, batch]
  a[0] = 1.0
  return x, a, a.copy()


def burg(x, order: int) -> np.ndarray:
  """AR coefficients [B, order + 1] (a[:, 0] = 1) of signals [B, n] by Burg's method.

  _kernels.burg when numba is there, else the batched numpy recursion below:
  Same recursion and epsilon as librosa.lpc (Marple 1980), in float64. The
  forward and backward errors of each context sit in one [2, m] block, so the
  order update f' = f + k b, b' = b + k f is one batched 2 x 2 matmul (one pass
  over memory instead of four elementwise ones). Per order the cost is ~15 numpy
  calls plus three passes over the errors, so predict() feeds it many contexts at
  once (and the same float operations as before issue 12: reference.burg).
  """
  x, a, a_prev = burg_start(x, order)
  kernel = compute.compiled(_kernels.burg)
  if kernel:
    out = np.ascontiguousarray(a.T)
    kernel(x, out, BURG_EXACT, np.finfo(np.float64).tiny)
    return out
  b, n = x.shape
  m = n - 1
  buffers = [np.empty(b * 2 * m), np.empty(b * 2 * m)]
  errors = buffers[1][:b * 2 * m].reshape(b, 2, m)
  errors[:, 0], errors[:, 1] = x[:, 1:], x[:, :-1]  # forward, backward errors
  den = np.einsum('ijk,ijk->i', errors, errors)
  eps = np.finfo(np.float64).tiny
  rotate = np.zeros((b, 2, 2))
  rotate[:, 0, 0] = rotate[:, 1, 1] = 1.0
  off_diag = rotate.reshape(b, 4)[:, 1:3]  # rotate[:, 0, 1] and rotate[:, 1, 0]
  floor = BURG_EXACT * den
  live = den > 0
  k2 = np.empty((b, 1))
  for i in range(order):
    cross = np.einsum('ij,ij->i', errors[:, 1], errors[:, 0])
    # Once the error energy is at the floor the model is exact; higher orders would
    # only fit rounding noise (and |k| could exceed 1), so they stay zero.
    live &= den > floor
    k = np.where(live, -2.0 * cross / (den + eps), 0.0)
    a, a_prev = a_prev, a
    np.multiply(a_prev[i::-1], k, out=a[1:i + 2])  # Levinson: a_j = a'_j + k a'_{i+1-j}
    a[1:i + 2] += a_prev[1:i + 2]
    k2[:, 0] = k
    off_diag[:] = k2
    buf = buffers[i % 2]
    new = np.matmul(rotate, errors, out=buf[:b * 2 * m].reshape(b, 2, m))
    den = (1.0 - k * k) * den - new[:, 1, -1] ** 2 - new[:, 0, 0] ** 2
    # Next order: forward errors drop their first sample, backward ones their last.
    m -= 1
    errors = np.ndarray((b, 2, m), np.float64, buf, 8, (16 * (m + 1), 8 * m, 8))
  return np.ascontiguousarray(a.T)


def extrapolate(context, a, length: int) -> np.ndarray:
  """Continue each context [B, n] by `length` samples with its all-pole filter a [B, p + 1].

  Equals scipy lfilter([1], a, zeros(length), zi=lfiltic([1], a, context[::-1][:p])).
  """
  context = np.asarray(context, np.float64)
  b, p = a.shape[0], a.shape[1] - 1
  hist = np.zeros((b, p + length))
  hist[:, :p] = context[:, -p:]
  taps = -a[:, :0:-1]  # -a_p .. -a_1, aligned with hist[n .. n + p - 1]
  kernel = compute.compiled(_kernels.extrapolate)
  if kernel:
    kernel(hist, np.ascontiguousarray(taps), p)
    return hist[:, p:]
  for t in range(length):
    hist[:, p + t] = np.einsum('ij,ij->i', hist[:, t:t + p], taps)
  return hist[:, p:]


def burg_extrapolate(contexts, order: int, length: int) -> np.ndarray:
  """Burg fits (in chunks of _CHUNK contexts) and their extrapolations [B, length], numpy."""
  contexts = np.asarray(contexts, np.float64)
  a = np.concatenate([burg(contexts[i:i + _CHUNK], order) for i in range(0, len(contexts), _CHUNK)])
  with np.errstate(all='ignore'):
    return extrapolate(contexts, a, length)


def predict(contexts, order: int, length: int, backend: str = 'auto', workers: int = None):
  """Extrapolations [B, length] of contexts [B, n], with the fallback mask [B].

  backend: 'numpy' (rows split over `workers` processes, default compute.set_workers),
  'tf' (lpc_tf: a TF graph, on a GPU when there is one) or 'auto' (compute.resolve).
  """
  contexts = np.asarray(contexts, np.float64)
  degenerate = np.ptp(contexts, axis=1) == 0
  pred = np.zeros((contexts.shape[0], length))
  rows = np.flatnonzero(~degenerate)
  if rows.size:
    if compute.resolve(backend) == 'tf':
      from audio_context_encoder.dsp import lpc_tf  # TensorFlow: only for the 'tf' backend
      pred[rows] = lpc_tf.burg_extrapolate(contexts[rows], order, length)
    else:
      pred[rows] = compute.map_rows(burg_extrapolate, (contexts[rows],), workers, order=order,
                                    length=length)
  peak = np.abs(contexts).max(axis=1)
  with np.errstate(invalid='ignore'):
    bad = ~np.isfinite(pred).all(axis=1) | (np.abs(pred).max(axis=1) > _BLOWUP * peak)
  fallback = degenerate | bad
  pred[fallback] = contexts[fallback, -1:]
  return pred, fallback


def mix_window(length: int) -> np.ndarray:
  """Squared-cosine weights of the forward prediction (1 at the gap start, 0 at its end)."""
  return np.cos(np.linspace(0, np.pi / 2, length)) ** 2


def extrapolate_gap(before, after, length: int, order: int = 1000, backend: str = 'auto',
                    workers: int = None):
  """(gap [B, length], fallback [B] bool) from contexts before [B, n1] and after [B, n2] the gap.

  Forward prediction from `before`, backward prediction from the time-reversed
  `after`, mixed with the squared cosine. fallback marks gaps where either side
  used the hold-the-edge fallback (for degenerate sides the mix is then a
  cross-fade towards the edge sample).
  """
  before = np.atleast_2d(np.asarray(before, np.float64))
  after = np.atleast_2d(np.asarray(after, np.float64))
  b = before.shape[0]
  if before.shape[1] == after.shape[1]:
    pred, fb = predict(np.concatenate([before, after[:, ::-1]]), order, length, backend, workers)
    fwd, bwd, fb_fwd, fb_bwd = pred[:b], pred[b:], fb[:b], fb[b:]
  else:
    fwd, fb_fwd = predict(before, order, length, backend, workers)
    bwd, fb_bwd = predict(after[:, ::-1], order, length, backend, workers)
  w = mix_window(length)
  return w * fwd + w[::-1] * bwd[:, ::-1], fb_fwd | fb_bwd


def lpc_inpaint(segments, sig: SignalConfig, order: int = 1000, backend: str = 'auto',
                workers: int = None):
  """(restored [B, L], n_fallback): the gap [Lc, Lc + Lg) filled by LPC; the rest bit-exact.

  n_fallback counts the segments where at least one side used the fallback.
  """
  x = np.asarray(segments)
  squeeze = x.ndim == 1
  x = np.atleast_2d(x)
  if x.shape[-1] != sig.L:
    raise ValueError(f'segments must be {sig.L} samples long, got {x.shape}')
  gap, fallback = extrapolate_gap(x[:, :sig.Lc], x[:, sig.Lc + sig.Lg:], sig.Lg, order, backend, workers)
  out = x.copy()
  out[:, sig.Lc:sig.Lc + sig.Lg] = gap
  return (out[0] if squeeze else out), int(fallback.sum())
