"""Phase retrieval for the gap columns (paper §2.4), batched numpy.

The segment's DGT (audio_context_encoder.dsp.dgt, 40 columns) keeps its true
coefficients on the known columns; the gap columns (15..25 for 64 ms) get the
network's magnitudes and a phase from

  * masked PGHI (Prusa, Balazs, Sondergaard 2017): phase-gradient heap
    integration that starts from the known coefficients (LTFAT's
    constructphasereal with a mask), gamma = 0.25645 * M^2 for the Hann window;
  * masked fast Griffin-Lim (Perraudin, Balazs, Sondergaard 2013), alpha 0.99,
    100 iterations, updating only the unknown columns;

then dual-window synthesis. Only the columns that touch the gap are computed,
so the cost does not grow with the known part. Both are batched for dataset-scale
evaluation (issue 12): the PGHI heaps of a batch advance in lockstep (_integrate),
FGLA iterates on the unknown columns over a fixed background (_fgla_iterate);
reference.py holds the straightforward versions they are tested against.

Phase convention: 'timeinv' (phase relative to each window's centre). With a
Gaussian window exp(-pi t^2 / gamma) the phase derivatives follow from the log
magnitude s (x in samples, omega in cycles per sample):
  d phase / dx     = (1 / gamma) ds/d omega + 2 pi omega
  d phase / domega = -gamma ds/dx
"""

import numpy as np

from audio_context_encoder.common import compute
from audio_context_encoder.dsp import _kernels
from audio_context_encoder.dsp import dgt as dgt_lib
from audio_context_encoder.config import ReconstructionConfig, SignalConfig

METHODS = ('true_phase', 'pghi', 'fgla', 'pghi+fgla')
# LTFAT constructphasereal: log magnitudes more than 11 nepers (~96 dB) below the
# maximum are clamped, and coefficients below tol * max get a random phase.
_LOG_FLOOR = 11.0


def known_columns_mask(sig: SignalConfig) -> np.ndarray:
  """Boolean [40]: True on known columns (0..14, 26..39 for 64 ms)."""
  known = np.ones(sig.dgt_columns, bool)
  start, end = sig.gap_dgt_columns
  known[start:end] = False
  return known


def heap_region(known_columns: np.ndarray, sig: SignalConfig):
  """Where masked PGHI works: the unknown columns plus their known time-neighbours (the only
  known coefficients whose heap pops can reach an unknown one). Returns (region [R] columns,
  pos [N]: each column's index in region or -1, neighbour table [R * bins, 4] of flat indices:
  east, west (time, circular), north, south (frequency); -1 where there is none)."""
  n_cols, bins = sig.dgt_columns, sig.bins
  unknown = np.flatnonzero(~np.asarray(known_columns, bool))
  region = np.unique(np.concatenate([unknown, (unknown - 1) % n_cols, (unknown + 1) % n_cols]))
  pos = -np.ones(n_cols, int)
  pos[region] = np.arange(region.size)
  k = region.size * bins
  col, row = np.divmod(np.arange(k), bins)
  east = pos[(region[col] + 1) % n_cols]
  west = pos[(region[col] - 1) % n_cols]
  nb = np.stack([np.where(east >= 0, east * bins + row, -1), np.where(west >= 0, west * bins + row, -1),
                 np.where(row + 1 < bins, np.arange(k) + 1, -1), np.where(row > 0, np.arange(k) - 1, -1)],
                axis=1)
  return region, pos, nb


def heap_start(coeffs: np.ndarray, known_columns: np.ndarray, sig: SignalConfig):
  """heap_region, then the heap's start on it, flat [B, R * bins]: magnitudes, which entries are
  known, and their phases (the known ones' true phase, 0 elsewhere)."""
  region, pos, nb = heap_region(known_columns, sig)
  b = coeffs.shape[0]
  mag = np.abs(coeffs[:, region]).reshape(b, -1)
  is_known = np.repeat(np.asarray(known_columns, bool)[region], sig.bins)[None, :].repeat(b, axis=0)
  phase = np.where(is_known, np.angle(coeffs[:, region]).reshape(b, -1), 0.0)
  return region, pos, nb, mag, is_known, phase


def _phase_gradients(mag: np.ndarray, sig: SignalConfig, gamma: float, columns=None):
  """Time- and frequency-direction phase derivatives [B, C, bins] on `columns` (default all).

  mag: [B, N, bins], all columns (the log floor is relative to the segment's maximum).
  """
  n = mag.shape[1]
  columns = np.arange(n) if columns is None else np.asarray(columns)
  need = np.unique(np.concatenate([columns, (columns - 1) % n, (columns + 1) % n]))
  at = np.searchsorted(need, columns)
  east, west = np.searchsorted(need, (columns + 1) % n), np.searchsorted(need, (columns - 1) % n)
  tiny = np.finfo(np.float64).tiny
  floor = np.log(mag.max(axis=(1, 2)) + tiny)[:, None, None] - _LOG_FLOOR  # log is monotone
  logs = np.maximum(np.log(mag[:, need] + tiny), floor)
  dlog_dm = np.zeros((mag.shape[0], len(columns), mag.shape[2]))
  dlog_dm[..., 1:-1] = (logs[:, at, 2:] - logs[:, at, :-2]) / 2  # borders symmetric: 0
  dlog_dn = (logs[:, east] - logs[:, west]) / 2  # circular DGT
  omega = np.arange(sig.bins) / sig.M
  tgrad = (sig.M / gamma) * dlog_dm + 2 * np.pi * omega  # rad per sample
  fgrad = -(gamma / sig.a) * dlog_dn  # rad per (cycle / sample)
  return tgrad, fgrad


def pghi(coeffs, known_columns, sig: SignalConfig, gamma: float = None, tol: float = 1e-10,
         seed: int = 0, row_offset: int = 0) -> np.ndarray:
  """Masked phase-gradient heap integration.

  coeffs: complex [B, N, bins]; on known columns the true coefficients, on unknown
    columns any value whose modulus is the target magnitude.
  known_columns: bool [N]. All False gives plain PGHI (starts at the largest coefficient).
  Returns complex [B, N, bins]: known columns unchanged, unknown columns = |coeffs|
  with the integrated phase: a binary heap per segment (_kernels.heap_pops, with numba) or all
  segments of the batch in lockstep (_integrate); either equals reference.pghi (a global
  argmax per step) exactly.
  row_offset: these are rows row_offset.. of a larger batch; the random phases of tiny
  coefficients are then those the whole batch would draw.
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
  region, pos, nb, mag, is_known, phase = heap_start(out, known_columns, sig)
  b, k = out.shape[0], region.size * bins
  tgrad, fgrad = _phase_gradients(mag_all, sig, gamma, region)
  half_a, half_bin = sig.a / 2, 1.0 / (2 * sig.M)

  small = (mag < tol * mag_all.max(axis=(1, 2))[:, None]) & ~is_known
  rng = np.random.default_rng(seed)
  draws = rng.uniform(-np.pi, np.pi, (row_offset + b, phase.shape[1]))[row_offset:]
  phase = np.where(small, draws, phase)
  # Phase step from each entry to each neighbour (trapezoid rule; the float operations
  # of reference.pghi: phase + step east / north, phase + (-step) west / south).
  scale = np.array([half_a, -half_a, half_bin, -half_bin])
  kernel = compute.compiled(_kernels.heap_pops, exact=True)
  if kernel:
    phase = np.ascontiguousarray(phase)
    kernel(phase, mag, tgrad.reshape(b, k), fgrad.reshape(b, k), scale, is_known,
           is_known | small, nb.astype(np.int64))
  else:
    east_c, west_c = np.maximum(pos[(region + 1) % n_cols], 0), np.maximum(pos[(region - 1) % n_cols], 0)
    steps = np.zeros((b, region.size, bins, 4))
    steps[..., 0] = scale[0] * (tgrad + tgrad[:, east_c])
    steps[..., 1] = scale[1] * (tgrad + tgrad[:, west_c])
    steps[..., :-1, 2] = scale[2] * (fgrad[..., :-1] + fgrad[..., 1:])
    steps[..., 1:, 3] = scale[3] * (fgrad[..., 1:] + fgrad[..., :-1])
    phase = _integrate(phase, mag, steps.reshape(b, k, 4), is_known, is_known | small, nb)
  new = (mag * np.exp(1j * phase)).reshape(b, region.size, bins)
  out[:, unknown] = new[:, pos[unknown]]
  return out


_BLOCK = 64  # heap keys per block of the two-level argmax in _integrate


def _integrate(phase, mag, steps, is_known, done, nb):
  """Heap integration of B segments in lockstep; phase [B, K] is completed and returned.

  The heap is a key array (magnitude rank while an entry waits, 0 otherwise); each step
  pops, per segment, its first largest key, as a global argmax would, but through a
  two-level argmax: the maxima of blocks of _BLOCK keys, then inside the chosen
  block, so a step costs O(B (K / _BLOCK + _BLOCK)) instead of O(B K). The popped
  entry gives its phase plus steps[:, entry, direction] to its four neighbours
  (nb [K, 4]: east, west, north, south; -1 = none) that are not done yet.
  Why numpy and sequential: each pop depends on the previous one (a data-dependent
  chain of ~K steps per segment), so only the batch is vectorised; the per-step
  cost is a fixed number of small numpy calls whatever B is.
  """
  b, k = phase.shape
  nblk = -(-(k + 1) // _BLOCK)
  kp = nblk * _BLOCK  # padded row; slot kp - 1 (>= k) is the "no neighbour" sentinel
  sentinel = kp - 1

  def flat(v, fill):
    out = np.full((b, kp), fill, dtype=np.asarray(v).dtype)
    out[:, :k] = v
    return out.ravel()

  phase_f = flat(phase, 0.0)
  mag_f = flat(mag, -np.inf)
  done_f = flat(done, True)
  # Heap keys are ranks, not magnitudes: the order (larger magnitude first, then lower
  # index, as argmax breaks ties) is the same, and int16 keys make each step's scans 4x lighter.
  order = np.argsort(-mag_f.reshape(b, kp), axis=1, kind='stable')
  rank = np.empty((b, kp), np.int16 if kp < 2 ** 15 else np.int32)
  np.put_along_axis(rank, order, np.arange(kp, 0, -1, dtype=rank.dtype)[None], axis=1)
  rank_f = rank.ravel()  # kp for the largest magnitude ... 1; 0 = not in the heap
  key_f = np.where(flat(is_known, False), rank_f, 0)
  nb = np.where(nb >= 0, nb, sentinel)
  nb = np.concatenate([nb, np.full((kp - k, 4), sentinel)]).astype(np.int32)  # [kp, 4], cache-resident
  # steps [B, K, 4] flat [B * kp * 4]: one cache line per pop.
  row0 = np.arange(b) * kp
  step_f = np.zeros((b, kp, 4))
  step_f[:, :k] = steps
  step_f = step_f.ravel()
  four = np.arange(4)
  blockmax = key_f.reshape(b, nblk, _BLOCK).max(axis=2)
  blocks = key_f.reshape(b, nblk, _BLOCK)
  rows = np.arange(b)
  finished = np.zeros(b, bool)  # heap empty and every coefficient done
  while True:
    blk = blockmax.argmax(axis=1)
    if blockmax[rows, blk].min() > 0:  # every heap has an entry: pop, the common case
      block = blocks[rows, blk]
      off = block.argmax(axis=1)
      block[rows, off] = 0
      blockmax[rows, blk] = block.max(axis=1)
      src = row0 + blk * _BLOCK + off
      key_f[src] = 0
    else:
      src = _pop_or_restart(blockmax, blk, blocks, key_f, mag_f, done_f, phase_f, finished, row0)
      if src is None:
        break
    dst = row0[:, None] + nb[src - row0]
    ok = ~done_f[dst]
    d = dst[ok]
    phase_f[d] = (phase_f[src][:, None] + step_f[4 * src[:, None] + four])[ok]
    done_f[d] = True
    key_f[d] = rank_f[d]
    np.maximum.at(blockmax.ravel(), d // _BLOCK, rank_f[d])
  return phase_f.reshape(b, kp)[:, :k]


def _pop_or_restart(blockmax, blk, blocks, key_f, mag_f, done_f, phase_f, finished, row0):
  """A step of _integrate where some heaps are empty; flat indices popped, or None when all done.

  Heap exhausted with coefficients left (no known start, or cut off by tiny ones):
  restart at the largest remaining coefficient with phase 0, as LTFAT does. Rows with
  nothing left return their entry 0, whose neighbours are all done (a no-op step).
  """
  b, kp = len(row0), blocks.shape[1] * blocks.shape[2]
  rows = np.arange(b)
  empty = blockmax[rows, blk] == 0
  w = np.zeros(b, int)
  e = np.flatnonzero(empty & ~finished)
  if e.size:
    left = np.where(done_f.reshape(b, kp)[e], -np.inf, mag_f.reshape(b, kp)[e])
    w2 = left.argmax(axis=1)
    has = ~np.isneginf(left[np.arange(e.size), w2])
    finished[e[~has]] = True
    w[e[has]] = w2[has]
    phase_f[row0[e[has]] + w2[has]] = 0.0
    done_f[row0[e[has]] + w2[has]] = True
  if finished.all():
    return None
  r = rows[~empty]
  if r.size:
    block = blocks[r, blk[r]]
    off = block.argmax(axis=1)
    block[np.arange(r.size), off] = 0
    blockmax[r, blk[r]] = block.max(axis=1)
    w[r] = blk[r] * _BLOCK + off
    key_f[row0[r] + w[r]] = 0
  return row0 + w


_FGLA_BLOCK = 8  # segments iterated together: their buffers stay in cache (8: fastest of 4..256)


def _fgla_iterate(c, target, background, layout, iterations, alpha):
  """The FGLA loop on the unknown columns c [B, U, bins]; known ones enter via `background`.

  The consistency projection of the unknown columns is dgt(idgt(all near columns)) on them;
  the known columns' share of the synthesis never changes, so it is `background`
  (their idgt on the buffer chunks, computed once) and each iteration costs one
  irfft and one rfft per unknown column. Rows are independent, so they run _FGLA_BLOCK
  at a time through all iterations, in preallocated buffers that stay in cache (the
  elementwise passes were memory-bound on whole batches; same float operations).
  """
  out = np.empty_like(c)
  for lo in range(0, c.shape[0], _FGLA_BLOCK):
    rows = slice(lo, lo + _FGLA_BLOCK)
    out[rows] = _fgla_block(c[rows], target[rows], background[rows], layout, iterations, alpha)
  return out


def _fgla_block(c, target, background, layout, iterations, alpha):
  """_fgla_iterate on a few rows: per iteration an irfft, the frames of the new synthesis, an
  rfft and the update, the two middle steps as numba kernels when there are (same float
  operations, one pass each instead of ~10 numpy calls)."""
  frames_kernel = compute.compiled(_kernels.fgla_frames, exact=True)
  update_kernel = compute.compiled(_kernels.fgla_update)
  c, t_old = c.copy(), c.copy()
  buffer = np.empty_like(background)
  frames = np.empty(c.shape[:2] + (layout.sig.M,))
  synthesis, t_new = np.empty_like(frames), np.empty_like(c)
  m = layout.sig.M
  exact = m & (m - 1) == 0  # 1/M folded into the dual window: exact for a power of 2
  dual = layout.dual_fft / m if exact else layout.dual_fft
  for _ in range(iterations):
    synthesis = dgt_lib.irfft_into(c, m, synthesis, scaled=not exact)
    if frames_kernel and layout.offsets is not None:
      frames_kernel(synthesis, dual, background, layout.offsets, layout.window_fft, buffer,
                    frames)
    else:
      synthesis *= dual
      np.copyto(buffer, background)
      layout.overlap_add(buffer, synthesis)
      np.multiply(layout.frames(buffer, out=frames), layout.window_fft, out=frames)
    t_new = dgt_lib.rfft_into(frames, t_new)
    if update_kernel:
      update_kernel(t_new.view(np.float64), target, t_old.view(np.float64), c.view(np.float64), alpha)
      continue
    modulus = np.abs(t_new)
    if modulus.all():
      t_new *= np.divide(target, modulus, out=modulus)
    else:
      safe = np.where(modulus > 0, modulus, 1.0)
      t_new = np.where(modulus > 0, t_new * (target / safe), target)
    np.subtract(t_new, t_old, out=c)  # c = t_new + alpha (t_new - t_old)
    c *= alpha
    c += t_new
    t_old, t_new = t_new, t_old  # t_new's buffer is overwritten next iteration
  return c


def fgla(coeffs, known_columns, sig: SignalConfig, iterations: int = 100,
         alpha: float = 0.99, backend: str = 'numpy') -> np.ndarray:
  """Masked fast Griffin-Lim: only unknown columns change; their modulus is kept.

  t_k = P_mag(P_consistent(c_{k-1})) on the unknown columns,
  c_k = t_k + alpha (t_k - t_{k-1}); known columns stay the true coefficients.
  known_columns all False is the plain (unmasked) algorithm. Returns c after the last iteration.
  backend 'numpy' (scipy.fft) or 'tf' (phase_tf.fgla_unknown: a TF graph, on a GPU when
  there is one; contiguous unknown columns only, as the gap's are).
  """
  c = np.asarray(coeffs).astype(np.complex128, copy=True)
  unknown = np.flatnonzero(~np.asarray(known_columns, bool))
  if unknown.size == 0 or iterations <= 0:
    return c
  layout = dgt_lib.HopLayout(sig, unknown)
  fixed = np.setdiff1d(dgt_lib.neighbours(sig, unknown), unknown)
  if fixed.size:
    background = layout.samples(dgt_lib.idgt(c[:, fixed], sig, fixed))
  else:
    background = np.zeros((c.shape[0], len(layout.chunks), sig.a))
  c_u = np.ascontiguousarray(c[:, unknown])
  target = np.abs(c_u)
  if backend == 'tf':
    from audio_context_encoder.dsp import phase_tf  # TensorFlow: only for the 'tf' backend
    c[:, unknown] = phase_tf.fgla_unknown(c_u, target, background, layout, iterations, alpha)
  elif backend == 'numpy':
    c[:, unknown] = _fgla_iterate(c_u, target, background, layout, iterations, alpha)
  else:
    raise ValueError(f"backend must be 'numpy' or 'tf', got {backend!r}")
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
                                rcfg: ReconstructionConfig = None, seed: int = 0, backend: str = 'auto',
                                workers: int = None) -> np.ndarray:
  """Segments [B, L] with the gap region resynthesised from gap magnitudes [B, 11, 257].

  The gap samples [Lc, Lc + Lg) of `segments` are never read (except by
  'true_phase', the oracle-phase ablation). Samples outside the gap region
  [Lc - 384, Lc + Lg + 384) come back bit-exact.
  backend: 'numpy' (rows split over `workers` processes, default compute.set_workers), 'tf'
  (FGLA as a TF graph, on a GPU when there is one; PGHI stays numpy on the workers, see
  _integrate) or 'auto' (compute.resolve). All give the same result up to rounding.
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
  backend = compute.resolve(backend)
  kwargs = dict(sig=sig, method=method, rcfg=rcfg, seed=seed)
  if backend == 'numpy':
    out = compute.map_rows(_reconstruct, (x, mags), workers, row_offset='row_offset', **kwargs)
  else:  # PGHI on the CPU workers, FGLA as a TF graph here
    c = compute.map_rows(_reconstruct, (x, mags), workers, row_offset='row_offset', fgla_backend=None,
                         **kwargs)
    if method in ('fgla', 'pghi+fgla'):
      c = fgla(c, known_columns_mask(sig), sig, rcfg.fgla_iterations, rcfg.fgla_alpha, 'tf')
    out = _synthesize(x, c, sig)
  return out[0] if squeeze else out


def reconstruct_with_phase_of(segments, gap_magnitudes, phase_source, sig: SignalConfig,
                              rcfg: ReconstructionConfig = None, iterations: int = None) -> np.ndarray:
  """Segments [B, L] with the gap region resynthesised from gap magnitudes [B, 11, 257] whose
  phase starts as the phase of `phase_source` (segments [B, L] whose gap another method filled,
  e.g. an AR fill) instead of PGHI's; then `iterations` masked FGLA steps (default the config's).
  The gap samples of `segments` are never read; outside the gap region, bit-exact."""
  rcfg = rcfg or ReconstructionConfig()
  x = np.atleast_2d(np.asarray(segments))
  work = x.astype(np.float64)
  work[:, sig.Lc:sig.Lc + sig.Lg] = 0.0
  c = dgt_lib.dgt(work, sig)
  start, end = sig.gap_dgt_columns
  source = dgt_lib.dgt(np.atleast_2d(np.asarray(phase_source, np.float64)), sig)[:, start:end]
  mags = np.asarray(gap_magnitudes, np.float64).reshape((x.shape[0], end - start, sig.bins))
  c[:, start:end] = mags * np.exp(1j * np.angle(source))
  iterations = rcfg.fgla_iterations if iterations is None else iterations
  c = fgla(c, known_columns_mask(sig), sig, iterations, rcfg.fgla_alpha)
  return _synthesize(x, c, sig)


def _reconstruct(x, mags, sig, method, rcfg, seed, fgla_backend='numpy', row_offset=0):
  """reconstruct_from_magnitudes on one share of the batch (module level: runs in workers).

  fgla_backend None: stop before FGLA and return the DGT coefficients [B, 40, bins].
  """
  known = known_columns_mask(sig)
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
    c = pghi(c, known, sig, gamma=rcfg.pghi_gamma_factor * sig.M ** 2, seed=seed, row_offset=row_offset)
  if fgla_backend is None:
    return c
  if method in ('fgla', 'pghi+fgla'):
    c = fgla(c, known, sig, rcfg.fgla_iterations, rcfg.fgla_alpha, fgla_backend)
  return _synthesize(x, c, sig)
