"""Per-segment SNRs of the evaluation (paper §3.4; the authors' MATLAB script).

  SNR(x, x')  = 10 log10(||x||^2 / ||x - x'||^2)
  SNR_TD      = SNR over the gap samples [Lc, Lc + Lg).
  SNR_MS      = SNR of DGT magnitudes (audio_context_encoder.dsp.dgt) over the
                columns whose window lies entirely inside the gap: 18..22 for
                64 ms (the 5 central gap frames), 19..21 for 48 ms.

All functions reduce over the trailing axes and keep the batch axis; a perfect
reconstruction gives +inf, a silent reference -inf or nan (reported, not hidden).
"""

import numpy as np

from audio_context_encoder.dsp import dgt as dgt_lib
from audio_context_encoder.config import SignalConfig


def snr(reference, estimate, axis=None) -> np.ndarray:
  """10 log10(sum ref^2 / sum (ref - est)^2) over `axis` (default: all but the first)."""
  ref = np.asarray(reference, np.float64)
  est = np.asarray(estimate, np.float64)
  if ref.shape != est.shape:
    raise ValueError(f'shapes differ: {ref.shape} vs {est.shape}')
  if axis is None:
    axis = tuple(range(1, ref.ndim)) if ref.ndim > 1 else None
  signal = np.sum(ref ** 2, axis=axis)
  noise = np.sum((ref - est) ** 2, axis=axis)
  with np.errstate(divide='ignore', invalid='ignore'):
    return 10 * np.log10(signal / noise)


def snr_ms_columns(sig: SignalConfig) -> np.ndarray:
  """DGT columns whose whole window support lies in the gap [Lc, Lc + Lg)."""
  n = np.arange(sig.dgt_columns)
  start = n * sig.a - sig.M // 2  # column n's window covers [n a - M/2, n a + M/2)
  end = n * sig.a + sig.M // 2
  return n[(start >= sig.Lc) & (end <= sig.Lc + sig.Lg)]


def snr_td(original, restored, sig: SignalConfig) -> np.ndarray:
  """SNR over the gap samples, per segment [B]."""
  o = np.atleast_2d(original)[:, sig.Lc:sig.Lc + sig.Lg]
  r = np.atleast_2d(restored)[:, sig.Lc:sig.Lc + sig.Lg]
  return snr(o, r)


def snr_ms(original, restored, sig: SignalConfig) -> np.ndarray:
  """SNR of DGT magnitudes on the central gap columns, per segment [B]."""
  cols = snr_ms_columns(sig)
  o = dgt_lib.magnitude(np.atleast_2d(original).astype(np.float64), sig, cols)
  r = dgt_lib.magnitude(np.atleast_2d(restored).astype(np.float64), sig, cols)
  return snr(o, r)


def snr_magnitudes(true_magnitudes, predicted_magnitudes) -> np.ndarray:
  """SNR of the network's gap magnitudes [B, 11, 257] before phase retrieval, per segment."""
  return snr(true_magnitudes, predicted_magnitudes)


def summary(values) -> dict:
  """Mean, std and count of finite per-segment values (non-finite ones are counted apart).

  The one summary of every table, `evaluate` and the README: the population std (ddof 0)
  over segments. A +inf SNR (perfect restoration) or a nan (silent reference) is left out
  of mean and std and counted in n_nonfinite. For Table 3's network the values are the
  per-segment means over the three gap extensions (evaluation.evaluate), so its std is the
  spread over segments of that mean, not a mean of three stds.
  """
  v = np.asarray(values, np.float64)
  finite = v[np.isfinite(v)]
  return {'mean': float(finite.mean()) if finite.size else float('nan'),
          'std': float(finite.std()) if finite.size else float('nan'),
          'n': int(finite.size), 'n_nonfinite': int(v.size - finite.size)}


def spread_indices(total: int, n: int) -> np.ndarray:
  """n indices out of range(total) at a fixed stride (floor(i * total / n)): a limited
  evaluation covers the whole split, every track in proportion, not the first n segments."""
  if n <= 0 or n >= total:
    return np.arange(total)
  return (np.arange(n, dtype=np.int64) * total) // n
