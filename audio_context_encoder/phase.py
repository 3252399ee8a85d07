"""Phase retrieval for the gap columns (paper §2.4), batched numpy.

The segment's DGT (audio_context_encoder.dgt, 40 columns) keeps its true
coefficients on the known columns; the gap columns (15..25 for 64 ms) get the
network's magnitudes and a phase from

  * masked PGHI (Prusa, Balazs, Sondergaard 2017): phase-gradient heap
    integration that starts from the known coefficients (LTFAT's
    constructphasereal with a mask), gamma = 0.25645 * M^2 for the Hann window;
  * masked fast Griffin-Lim (Perraudin, Balazs, Sondergaard 2013), alpha 0.99,
    100 iterations, updating only the unknown columns;

then dual-window synthesis. Only the columns that touch the gap are computed,
so the cost does not grow with the known part.

Phase convention: 'timeinv' (phase relative to each window's centre). With a
Gaussian window exp(-pi t^2 / gamma) the phase derivatives follow from the log
magnitude s (x in samples, omega in cycles per sample):
  d phase / dx     = (1 / gamma) ds/d omega + 2 pi omega
  d phase / domega = -gamma ds/dx
"""

import numpy as np

from audio_context_encoder import dgt as dgt_lib
from audio_context_encoder.config import ReconstructionConfig, SignalConfig

METHODS = ('true_phase', 'pghi', 'fgla', 'pghi+fgla')
# LTFAT constructphasereal: log magnitudes more than 11 nepers (~96 dB) below the
# maximum are clamped, and coefficients below tol * max get a random phase.
_LOG_FLOOR = 11.0


def gap_columns_mask(sig: SignalConfig) -> np.ndarray:
  """Boolean [40]: True on known columns (0..14, 26..39 for 64 ms)."""
  known = np.ones(sig.dgt_columns, bool)
  start, end = sig.gap_dgt_columns
  known[start:end] = False
  return known


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
  n_cols, bins = sig.dgt_columns, sig.bins
  unknown = np.flatnonzero(~known_columns)
  out = coeffs.astype(np.complex128, copy=True)
  if unknown.size == 0:
    return out
  mag_all = np.abs(out)
  tgrad_all, fgrad_all = _phase_gradients(mag_all, sig, gamma)
  # Work on the unknown columns plus their known time-neighbours (the only known
  # coefficients whose heap pops can reach an unknown one).
  region = np.unique(np.concatenate([unknown, (unknown - 1) % n_cols, (unknown + 1) % n_cols]))
  pos = -np.ones(n_cols, int)
  pos[region] = np.arange(region.size)
  b = out.shape[0]
  mag = mag_all[:, region].reshape(b, -1)
  tgrad = tgrad_all[:, region].reshape(b, -1)
  fgrad = fgrad_all[:, region].reshape(b, -1)
  is_known = np.repeat(known_columns[region], bins)[None, :].repeat(b, axis=0)
  phase = np.where(is_known, np.angle(out[:, region]).reshape(b, -1), 0.0)

  # Neighbour table [K, 4]: east, west (time, circular), north, south (frequency).
  k = region.size * bins
  col, row = np.divmod(np.arange(k), bins)
  east = pos[(region[col] + 1) % n_cols]
  west = pos[(region[col] - 1) % n_cols]
  nb = np.stack([np.where(east >= 0, east * bins + row, -1), np.where(west >= 0, west * bins + row, -1),
                 np.where(row + 1 < bins, np.arange(k) + 1, -1), np.where(row > 0, np.arange(k) - 1, -1)],
                axis=1)
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


def _synthesize(x, c, sig: SignalConfig):
  """x with the gap region replaced by the synthesis of DGT coefficients c [B, 40, bins]."""
  start, end = sig.gap_dgt_columns
  near = dgt_lib.neighbours(sig, np.arange(start, end))
  y = dgt_lib.idgt(c[:, near], sig, near)
  lo, hi = sig.gap_region
  out = x.copy()
  out[:, lo:hi] = y[:, lo:hi]
  return out


def synthesize_gap(segments, gap_coeffs, sig: SignalConfig) -> np.ndarray:
  """Segments [B, L] with the gap region synthesised from complex gap columns [B, 11, bins].

  For the complex network (no phase retrieval). Same guarantees as
  reconstruct_from_magnitudes: gap samples unread, outside the region bit-exact.
  """
  x = np.atleast_2d(np.asarray(segments))
  work = x.astype(np.float64)
  work[:, sig.Lc:sig.Lc + sig.Lg] = 0.0
  c = dgt_lib.dgt(work, sig)
  start, end = sig.gap_dgt_columns
  c[:, start:end] = np.asarray(gap_coeffs).reshape((x.shape[0], end - start, sig.bins))
  return _synthesize(x, c, sig)


def reconstruct_from_magnitudes(segments, gap_magnitudes, sig: SignalConfig, method: str = 'pghi+fgla',
                                rcfg: ReconstructionConfig = None, seed: int = 0) -> np.ndarray:
  """Segments [B, L] with the gap region resynthesised from gap magnitudes [B, 11, 257].

  The gap samples [Lc, Lc + Lg) of `segments` are never read (except by
  'true_phase', the oracle-phase ablation). Samples outside the gap region
  [Lc - 384, Lc + Lg + 384) come back bit-exact.
  """
  if method not in METHODS:
    raise ValueError(f'unknown phase method {method!r}; choose one of {METHODS}')
  rcfg = rcfg or ReconstructionConfig()
  x = np.asarray(segments)
  squeeze = x.ndim == 1
  x = np.atleast_2d(x)
  mags = np.asarray(gap_magnitudes, np.float64).reshape((x.shape[0], sig.gap_frames, sig.bins))
  if x.shape[-1] != sig.L:
    raise ValueError(f'segments must be {sig.L} samples long, got {x.shape}')
  known = gap_columns_mask(sig)
  start, end = sig.gap_dgt_columns
  work = x.astype(np.float64)
  if method != 'true_phase':
    work[:, sig.Lc:sig.Lc + sig.Lg] = 0.0  # the known columns never see the gap
  c = dgt_lib.dgt(work, sig)
  if method == 'true_phase':
    c[:, start:end] = mags * np.exp(1j * np.angle(c[:, start:end]))
  else:
    c[:, start:end] = mags  # zero phase: the FGLA-only start
  if method in ('pghi', 'pghi+fgla'):
    c = pghi(c, known, sig, gamma=rcfg.pghi_gamma_factor * sig.M ** 2, seed=seed)
  if method in ('fgla', 'pghi+fgla'):
    c = fgla(c, known, sig, rcfg.fgla_iterations, rcfg.fgla_alpha)
  out = _synthesize(x, c, sig)
  return out[0] if squeeze else out
