"""Circular discrete Gabor transform of a segment, batched, in numpy (evaluation side, §2.4/§3.4).

The evaluation protocol (docs/reference.md, "Reconstruction and evaluation") works on
LTFAT's `dgtreal(x, hann 512, a=128, M=512, L=5120, 'timeinv')`: 40 columns, column n
centred on sample n*a (circularly), window a periodic Hann with peak 1.
Coefficients here are laid out [..., columns, bins] like features.py's frames
(time first), so column k + 2 equals tf.signal.stft frame k in magnitude.

  c[n, m] = sum_{l=-M/2}^{M/2-1} x[(n a + l) mod L] g[l] exp(-2 pi i m l / M)

The inverse uses the canonical dual window g / sum_n g(l - n a)^2 (= g / 1.5
for Hann with a = M/4), so idgt(dgt(x)) = x and idgt(c) is the least-squares
signal for inconsistent c (what Griffin-Lim needs).

Both transforms take an optional set of `columns`, so phase retrieval can
touch only the columns it changes. They are the package's one numpy DGT (phase retrieval,
evaluation, metrics and the reference oracle all call them): frames are gathered in FFT order
(sample offset l stored at l mod M, which makes the (-1)^m factor of 'timeinv' implicit) and
transformed a few segments at a time by scipy's pocketfft into preallocated outputs. `HopLayout` states the same transform as
hop-sized chunks (what the batched FGLA of phase.py and phase_tf.py iterate on).
"""

import numpy as np
from scipy import fft as sfft

try:  # scipy.fft's own pocketfft: the same transforms as sfft.rfft / irfft, into preallocated outputs
  from scipy.fft._pocketfft import pypocketfft as _pocketfft
except ImportError:  # another scipy layout: sfft, which allocates its outputs
  _pocketfft = None

from audio_context_encoder.config import SignalConfig

_ROWS = 8  # segments per FFT call (their frames stay in cache; whole-batch temporaries took 2.5x longer)


def window(sig: SignalConfig) -> np.ndarray:
  """Periodic Hann of length M, peak 1, centred: g[l] for l = -M/2 .. M/2 - 1."""
  l = np.arange(-sig.M // 2, sig.M // 2)
  return 0.5 + 0.5 * np.cos(2 * np.pi * l / sig.M)


def dual_window(sig: SignalConfig) -> np.ndarray:
  """Canonical dual of `window` for hop a (painless case: M >= window length)."""
  g = window(sig)
  r = sig.M // sig.a
  frame_sum = (g.reshape(r, sig.a) ** 2).sum(axis=0)  # sum_n g(l - n a)^2, a-periodic
  return g / np.tile(frame_sum, r)


def _columns(sig: SignalConfig, columns):
  n = sig.dgt_columns
  if columns is None:
    return np.arange(n)
  columns = np.asarray(columns) % n
  if len(np.unique(columns)) != len(columns):
    raise ValueError('columns must be distinct')
  return columns


def _sign(sig: SignalConfig) -> np.ndarray:
  # exp(-2 pi i m l / M) with l starting at -M/2 instead of 0: a factor (-1)^m.
  return np.where(np.arange(sig.bins) % 2, -1.0, 1.0)


def _check(x: np.ndarray, sig: SignalConfig) -> np.ndarray:
  x = np.asarray(x)
  if x.shape[-1] != sig.L:
    raise ValueError(f'signals must be {sig.L} samples long (L), got shape {x.shape}')
  return x


def rfft_into(x, out):
  """sfft.rfft(x, axis=-1) into `out` (complex [..., M/2 + 1], C-contiguous), returned: with
  scipy's pocketfft directly, without allocating (a fresh output per call cost page faults and
  cache misses in the FGLA loop)."""
  if _pocketfft is None:
    out[...] = sfft.rfft(x, axis=-1)
    return out
  return _pocketfft.r2c(x, (x.ndim - 1,), True, 0, out, 1)


def irfft_into(c, n, out, scaled=True):
  """sfft.irfft(c, n, axis=-1) (norm 'backward': 1/n on the inverse) into `out`, returned;
  `scaled` False leaves out the 1/n (the caller folds it into a window: for n a power of 2 the
  same floats, one pass less)."""
  if _pocketfft is None:
    out[...] = sfft.irfft(c, n=n, axis=-1, norm='backward' if scaled else 'forward')
    return out
  return _pocketfft.c2r(c, (c.ndim - 1,), n, False, 2 if scaled else 0, out, 1)


def dgt(x, sig: SignalConfig, columns=None) -> np.ndarray:
  """Complex DGT [..., n_columns, bins] of real signals [..., L] ('timeinv', circular)."""
  x = _check(x, sig)
  cols = _columns(sig, columns)
  lead = x.shape[:-1]
  x = x.reshape(-1, sig.L).astype(np.float64, copy=False)
  idx = fft_order((cols[:, None] * sig.a + np.arange(-sig.M // 2, sig.M // 2)[None, :]) % sig.L)
  win = fft_order(window(sig))
  out = np.empty((x.shape[0], len(cols), sig.bins), np.complex128)
  for lo in range(0, x.shape[0], _ROWS):
    frames = x[lo:lo + _ROWS, idx]
    frames *= win
    rfft_into(frames, out[lo:lo + _ROWS])
  return out.reshape(lead + out.shape[1:])


def idgt(c, sig: SignalConfig, columns=None) -> np.ndarray:
  """Real signals [..., L] from coefficients [..., n_columns, bins] (dual-window synthesis).

  With `columns`, c holds only those columns and the others count as zero;
  the result is exact on samples that only those columns' windows cover.
  """
  c = np.asarray(c)
  cols = _columns(sig, columns)
  if c.shape[-2:] != (len(cols), sig.bins):
    raise ValueError(f'coefficients must have shape [..., {len(cols)}, {sig.bins}], got {c.shape}')
  lead = c.shape[:-2]
  c = np.ascontiguousarray(c.reshape((-1,) + c.shape[-2:]), np.complex128)
  n, r, a = sig.dgt_columns, sig.M // sig.a, sig.a
  frames = irfft_into(c, sig.M, np.empty(c.shape[:-1] + (sig.M,)))
  frames *= fft_order(dual_window(sig))
  chunks = frames.reshape(frames.shape[:-1] + (r, a))
  out = np.zeros((c.shape[0], n, a))
  for q in range(r):  # FFT order: chunks n, n + 1, ..., then n - r/2, ..., n - 1
    out[:, (cols + q - r * (q >= r // 2)) % n] += chunks[:, :, q]
  return out.reshape(lead + (sig.L,))


def from_stft_frames(frames, sig: SignalConfig) -> np.ndarray:
  """tf.signal.stft frames (window starting at the frame's first sample) -> 'timeinv' columns.

  The two differ by the window's offset M/2 inside the frame: a factor (-1)^m.
  """
  return np.asarray(frames) * _sign(sig)


def magnitude(x, sig: SignalConfig, columns=None) -> np.ndarray:
  """|DGT| [..., n_columns, bins]."""
  return np.abs(dgt(x, sig, columns))


def support(sig: SignalConfig, columns) -> np.ndarray:
  """Boolean [L]: samples covered by the windows of `columns`."""
  cols = _columns(sig, columns)
  mask = np.zeros(sig.L, bool)
  idx = (cols[:, None] * sig.a + np.arange(-sig.M // 2, sig.M // 2)[None, :]) % sig.L
  mask[idx.ravel()] = True
  return mask


def neighbours(sig: SignalConfig, columns) -> np.ndarray:
  """Columns whose windows overlap those of `columns` (what synthesis there needs), sorted."""
  cols = _columns(sig, columns)
  r = sig.M // sig.a
  near = (cols[:, None] + np.arange(-(r - 1), r)[None, :]) % sig.dgt_columns
  return np.unique(near)


def fft_order(v) -> np.ndarray:
  """Natural order l = -M/2 .. M/2 - 1 -> FFT order l mod M ('timeinv' without the (-1)^m factor)."""
  return np.fft.ifftshift(np.asarray(v), axes=-1)


class HopLayout:
  """The DGT of `columns` written on hop-sized chunks of the signal, frames in FFT order.

  Column n's frame, in FFT order (sample offset l stored at l mod M), is made of
  r = M / a chunks: chunk w holds hop-chunk (n + w) mod N for w < r/2 and
  (n + w - r) mod N for w >= r/2 (N = L / a chunks). So, with buffer = the
  hop-chunks those columns touch ([B, n_chunks, a]):
    dgt(x)[n]  = rfft(buffer[local[n]].reshape(M) * window_fft)
    idgt(c)    = sum_n scatter of irfft(c[n]) * dual_fft into buffer[local[n]]
  exactly dgt()/idgt() above, without the (-1)^m sign pass.
  """

  def __init__(self, sig: SignalConfig, columns):
    self.columns = _columns(sig, columns)
    r, n = sig.M // sig.a, sig.dgt_columns
    w = np.arange(r)
    chunk = (self.columns[:, None] + w[None, :] - r * (w[None, :] >= r // 2)) % n
    self.chunks = np.unique(chunk)  # hop-chunks touched, sorted
    self.local = np.searchsorted(self.chunks, chunk)  # [n_columns, r] positions in the buffer
    self.window_fft = fft_order(window(sig))
    self.dual_fft = fft_order(dual_window(sig))
    self.sig = sig
    # Contiguous columns without wrap-around: chunk w of column j is buffer[j + offset[w]].
    offset = self.local[0]
    self.offsets = (offset if np.array_equal(self.local, offset + np.arange(len(self.columns))[:, None])
                    else None)

  def samples(self, x) -> np.ndarray:
    """Signals [..., L] -> their buffer [..., n_chunks, a]."""
    x = _check(x, self.sig)
    return x.reshape(x.shape[:-1] + (self.sig.dgt_columns, self.sig.a))[..., self.chunks, :]

  def frames(self, buffer, out=None) -> np.ndarray:
    """Buffer [B, n_chunks, a] -> frames in FFT order [B, n_columns, M] (not windowed), into `out`
    [B, n_columns, M] when given (FGLA's preallocated frames)."""
    b, k = buffer.shape[0], len(self.columns)
    out = np.empty((b, k, self.sig.M), buffer.dtype) if out is None else out
    parts = out.reshape(b, k, -1, self.sig.a)
    for w in range(parts.shape[2]):
      if self.offsets is not None:
        parts[:, :, w] = buffer[:, self.offsets[w]:self.offsets[w] + k]
      else:
        parts[:, :, w] = buffer[:, self.local[:, w]]
    return out

  def overlap_add(self, buffer, frames) -> None:
    """buffer [B, n_chunks, a] += the frames [B, n_columns, M] (FFT order) at their chunks."""
    b, k = frames.shape[0], len(self.columns)
    parts = frames.reshape(b, k, -1, self.sig.a)
    for w in range(parts.shape[2]):
      if self.offsets is not None:
        buffer[:, self.offsets[w]:self.offsets[w] + k] += parts[:, :, w]
      else:  # distinct columns: a column's chunk w is distinct across columns
        buffer[:, self.local[:, w]] += parts[:, :, w]
