"""The straightforward implementations of masked PGHI, masked FGLA and Burg (before issue 12).

Kept verbatim as the reference that tests and benchmarks/bench_reconstruction.py
compare the fast paths (phase.py, lpc.py, phase_tf.py, lpc_tf.py) against:
  * pghi: one global argmax over the whole heap array per step;
  * fgla: full DGT/IDGT of the 17 columns near the gap per iteration;
  * burg/extrapolate: Burg in chunks of 24 contexts, extrapolation per chunk.
Not used by the package itself.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from audio_context_encoder.common import compute
from audio_context_encoder.dsp import dgt as dgt_lib
from audio_context_encoder.dsp import lpc as lpc_lib
from audio_context_encoder.dsp import phase as phase_lib
from audio_context_encoder.config import BURG_EXACT, ReconstructionConfig, SignalConfig

_LOG_FLOOR = 11.0
_CHUNK = 24


def _phase_gradients(mag: np.ndarray, sig: SignalConfig, gamma: float):
  """Time- and frequency-direction phase derivatives [B, N, bins] from magnitudes [B, N, bins]."""
  logs = np.log(mag + np.finfo(np.float64).tiny)
  floor = logs.max(axis=(1, 2), keepdims=True) - _LOG_FLOOR
  logs = np.maximum(logs, floor)
  dlog_dm = np.zeros_like(logs)
  dlog_dm[..., 1:-1] = (logs[..., 2:] - logs[..., :-2]) / 2  # borders symmetric: 0
  dlog_dn = (np.roll(logs, -1, axis=1) - np.roll(logs, 1, axis=1)) / 2  # circular DGT
  omega = np.arange(sig.bins) / sig.M
  tgrad = (sig.M / gamma) * dlog_dm + 2 * np.pi * omega  # rad per sample
  fgrad = -(gamma / sig.a) * dlog_dn  # rad per (cycle / sample)
  return tgrad, fgrad


def pghi(coeffs, known_columns, sig: SignalConfig, gamma: float = None, tol: float = 1e-10,
         seed: int = 0) -> np.ndarray:
  """Masked phase-gradient heap integration.

  coeffs: complex [B, N, bins]; on known columns the true coefficients, on unknown
    columns any value whose modulus is the target magnitude.
  known_columns: bool [N]. All False gives plain PGHI (starts at the largest coefficient).
  Returns complex [B, N, bins]: known columns unchanged, unknown columns = |coeffs|
  with the integrated phase. All segments of the batch advance in lockstep, each
  step popping its own largest heap entry (argmax over a masked array).
  """
  coeffs = np.asarray(coeffs)
  if coeffs.ndim != 3 or coeffs.shape[1:] != (sig.dgt_columns, sig.bins):
    raise ValueError(f'coeffs must be [batch, {sig.dgt_columns}, {sig.bins}], got {coeffs.shape}')
  gamma = ReconstructionConfig().pghi_gamma_factor * sig.M ** 2 if gamma is None else gamma
  known_columns = np.asarray(known_columns, bool)
  bins = sig.bins
  unknown = np.flatnonzero(~known_columns)
  out = coeffs.astype(np.complex128, copy=True)
  if unknown.size == 0:
    return out
  mag_all = np.abs(out)
  tgrad_all, fgrad_all = _phase_gradients(mag_all, sig, gamma)
  # The region, neighbour table and start are bookkeeping shared with phase.pghi.
  region, pos, nb, mag, is_known, phase = phase_lib.heap_start(out, known_columns, sig)
  b = out.shape[0]
  tgrad = tgrad_all[:, region].reshape(b, -1)
  fgrad = fgrad_all[:, region].reshape(b, -1)
  half_a, half_bin = sig.a / 2, 1.0 / (2 * sig.M)

  small = (mag < tol * mag_all.max(axis=(1, 2))[:, None]) & ~is_known
  rng = np.random.default_rng(seed)
  phase = np.where(small, rng.uniform(-np.pi, np.pi, phase.shape), phase)
  done = is_known | small
  key = np.where(is_known, mag, -np.inf)
  rows = np.arange(b)
  while True:
    w = key.argmax(axis=1)
    top = key[rows, w]
    empty = np.isneginf(top)
    if empty.any():
      # Heap exhausted with coefficients left (no known start, or cut off by tiny ones):
      # restart at the largest remaining coefficient with phase 0, as LTFAT does.
      left = np.where(done, -np.inf, mag)
      w2 = left.argmax(axis=1)
      restart = empty & ~np.isneginf(left[rows, w2])
      w = np.where(restart, w2, w)
      phase[rows[restart], w[restart]] = 0.0
      done[rows[restart], w[restart]] = True
      active = ~empty | restart
      if not active.any():
        break
    else:
      active = np.ones(b, bool)
    key[rows[active], w[active]] = -np.inf
    for d in range(4):
      nbi = nb[w, d]
      ok = active & (nbi >= 0)
      ok[ok] &= ~done[rows[ok], nbi[ok]]
      if not ok.any():
        continue
      r, src, dst = rows[ok], w[ok], nbi[ok]
      if d < 2:
        step = half_a * (tgrad[r, src] + tgrad[r, dst])
      else:
        step = half_bin * (fgrad[r, src] + fgrad[r, dst])
      phase[r, dst] = phase[r, src] + (step if d % 2 == 0 else -step)
      done[r, dst] = True
      key[r, dst] = mag[r, dst]
  new = (mag * np.exp(1j * phase)).reshape(b, region.size, bins)
  out[:, unknown] = new[:, pos[unknown]]
  return out


def fgla(coeffs, known_columns, sig: SignalConfig, iterations: int = 100,
         alpha: float = 0.99) -> np.ndarray:
  """Masked fast Griffin-Lim: only unknown columns change; their modulus is kept.

  t_k = P_mag(P_consistent(c_{k-1})) on the unknown columns,
  c_k = t_k + alpha (t_k - t_{k-1}); known columns stay the true coefficients.
  known_columns all False is the plain (unmasked) algorithm. Returns c after the last iteration.
  """
  c = np.asarray(coeffs).astype(np.complex128, copy=True)
  unknown = np.flatnonzero(~np.asarray(known_columns, bool))
  if unknown.size == 0 or iterations <= 0:
    return c
  near = dgt_lib.neighbours(sig, unknown)
  target = np.abs(c[:, unknown])
  t_old = c[:, unknown]
  for _ in range(iterations):
    projected = dgt_lib.dgt(dgt_lib.idgt(c[:, near], sig, near), sig, unknown)
    modulus = np.abs(projected)
    safe = np.where(modulus > 0, modulus, 1.0)
    t_new = np.where(modulus > 0, projected * (target / safe), target)
    c[:, unknown] = t_new + alpha * (t_new - t_old)
    t_old = t_new
  return c


def burg(x, order: int) -> np.ndarray:
  """AR coefficients [B, order + 1] (a[:, 0] = 1) of signals [B, n] by Burg's method.

  Same recursion and epsilon as librosa.lpc (Marple 1980), in float64. The
  forward and backward errors of each context sit in one [2, m] block, so the
  order update f' = f + k b, b' = b + k f is one batched 2 x 2 matmul (one pass
  over memory instead of four elementwise ones).
  """
  x, a, a_prev = lpc_lib.burg_start(x, order)
  b, n = x.shape
  m = n - 1
  errors = np.stack([x[:, 1:], x[:, :-1]], axis=1)  # [B, 2, m]: forward, backward errors
  buffers = [np.empty(b * 2 * m), np.empty(b * 2 * m)]
  den = np.einsum('ijk,ijk->i', errors, errors)
  eps = np.finfo(np.float64).tiny
  rotate = np.zeros((b, 2, 2))
  rotate[:, 0, 0] = rotate[:, 1, 1] = 1.0
  floor = BURG_EXACT * den
  live = den > 0
  for i in range(order):
    k = -2.0 * np.einsum('ij,ij->i', errors[:, 1], errors[:, 0]) / (den + eps)
    # Once the error energy is at the floor the model is exact; higher orders would
    # only fit rounding noise (and |k| could exceed 1), so they stay zero.
    live &= den > floor
    k = np.where(live, k, 0.0)
    a, a_prev = a_prev, a
    np.multiply(a_prev[i::-1], k, out=a[1:i + 2])  # Levinson: a_j = a'_j + k a'_{i+1-j}
    a[1:i + 2] += a_prev[1:i + 2]
    rotate[:, 0, 1] = rotate[:, 1, 0] = k
    buf = buffers[i % 2]
    new = np.matmul(rotate, errors, out=buf[:b * 2 * m].reshape(b, 2, m))
    den = (1.0 - k * k) * den - new[:, 1, -1] ** 2 - new[:, 0, 0] ** 2
    # Next order: forward errors drop their first sample, backward ones their last.
    m -= 1
    step = buf.itemsize
    errors = as_strided(buf[1:], shape=(b, 2, m), strides=(2 * (m + 1) * step, m * step, step))
  return np.ascontiguousarray(a.T)


def burg_extrapolate(contexts, order: int, length: int) -> np.ndarray:
  """Extrapolations [B, length] as lpc.predict computed them (Burg and extrapolation per chunk;
  the extrapolation is lpc.extrapolate's numpy path, unchanged since)."""
  contexts = np.asarray(contexts, np.float64)
  pred = np.zeros((contexts.shape[0], length))
  previous = compute.use_compiled(False)
  try:
    for i in range(0, contexts.shape[0], _CHUNK):
      a = burg(contexts[i:i + _CHUNK], order)
      with np.errstate(all='ignore'):
        pred[i:i + _CHUNK] = lpc_lib.extrapolate(contexts[i:i + _CHUNK], a, length)
  finally:
    compute.use_compiled(previous)
  return pred
