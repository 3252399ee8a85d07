"""STFT, inverse STFT and fast Griffin-Lim of whole clips of any length, batched numpy.

The package's dgt.py is tied to the 320 ms segment layout of the first paper (SignalConfig:
2 Lc + Lg = L, circular); long-gap clips are 1 s or 5 s with a gap anywhere, so they get this
plain framed STFT. Frame k covers samples [k hop, k hop + n_fft) of the (optionally
centre-padded) clip, a periodic Hann window, no scaling: with center=False it equals
tf.signal.stft, the layout of features.py and phase.py.
"""

import numpy as np
from scipy.signal import get_window


def window(n_fft: int) -> np.ndarray:
  return get_window('hann', n_fft)  # periodic, as tf.signal.hann_window


def n_frames(length: int, n_fft: int, hop: int, center: bool) -> int:
  if center:
    return 1 + length // hop
  return 1 + (length - n_fft) // hop


def stft(x, n_fft: int, hop: int, center: bool = True) -> np.ndarray:
  """Complex STFT [B, frames, n_fft // 2 + 1] of clips [B, T] (or [T] -> [frames, bins])."""
  x = np.asarray(x, np.float64)
  squeeze = x.ndim == 1
  x = np.atleast_2d(x)
  if center:
    x = np.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)))
  if x.shape[1] < n_fft:
    raise ValueError(f'clips of {x.shape[1]} samples are shorter than the {n_fft}-sample window')
  frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=1)[:, ::hop]
  s = np.fft.rfft(frames * window(n_fft), axis=-1)
  return s[0] if squeeze else s


def istft(s, n_fft: int, hop: int, length: int, center: bool = True) -> np.ndarray:
  """Least-squares inverse of stft (overlap-add / window energy) -> clips [B, length]."""
  s = np.asarray(s)
  squeeze = s.ndim == 2
  s = s[None] if squeeze else s
  b, f, _ = s.shape
  w = window(n_fft)
  frames = np.fft.irfft(s, n=n_fft, axis=-1) * w
  total = (f - 1) * hop + n_fft
  out = np.zeros((b, total))
  norm = np.zeros(total)
  for k in range(f):
    out[:, k * hop:k * hop + n_fft] += frames[:, k]
    norm[k * hop:k * hop + n_fft] += w ** 2
  out /= np.maximum(norm, 1e-10)
  off = n_fft // 2 if center else 0
  out = out[:, off:off + length]
  if out.shape[1] < length:
    out = np.pad(out, ((0, 0), (0, length - out.shape[1])))
  return out[0] if squeeze else out


def griffin_lim(magnitude, n_fft: int, hop: int, length: int, iterations: int = 100,
                alpha: float = 0.99, init_phase=None, center: bool = True) -> np.ndarray:
  """Clips [B, length] whose STFT magnitude approaches `magnitude` [B, frames, bins].

  Fast Griffin-Lim (Perraudin, Balazs, Sondergaard 2013; alpha 0.99, as phase.py); alpha 0
  is Griffin and Lim 1984, the paper's phase. Starts from init_phase (default zero phase).
  """
  mag = np.asarray(magnitude, np.float64)
  phase = np.zeros_like(mag) if init_phase is None else np.asarray(init_phase)
  c = mag * np.exp(1j * phase)
  prev = c
  for _ in range(iterations):
    proj = stft(istft(c, n_fft, hop, length, center), n_fft, hop, center)
    proj = mag * np.exp(1j * np.angle(proj))
    c = proj + alpha * (proj - prev)
    prev = proj
  return istft(mag * np.exp(1j * np.angle(c)), n_fft, hop, length, center)
