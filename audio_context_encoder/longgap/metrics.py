"""The long-gap metrics (Chang et al. 2019, "Evaluation Metrics"), per clip, batched numpy.

  masked_l1           eq. 2: E_t[M_t |O_t - A_t|], the mean over ALL samples of the clip of the
                      masked error (so it scales with the gap's share of the clip, as the
                      paper's Table 2 figures imply: 0.011 for zeros in a 0.2 s SC09 gap).
  spectrogram_ssim    SSIM (Wang et al. 2004) of the dB spectrograms (config.SSIM, METRIC_STFT).
  perceptual_distance eq. 3: sum_t |Psi(O) - Psi(A)| / N_Psi for a feature extractor Psi
                      (the classifiers are part 2 of issue 13).
  snr_gap             SNR over the gap samples (metrics.snr: SNR_TD of the first paper).
  spectral_snr        SNR of STFT magnitudes over the frames lying wholly in the gap (the long-gap
                      analogue of SNR_MS).
All take restored and target clips [B, T] and the mask [B, T] (True = missing) and return [B].
"""

import numpy as np
from scipy.ndimage import gaussian_filter

from audio_context_encoder.dsp import metrics as base_metrics
from audio_context_encoder.dsp import spectrogram
from audio_context_encoder.longgap import config


def _check(restored, target, mask=None):
  o = np.atleast_2d(np.asarray(restored, np.float64))
  a = np.atleast_2d(np.asarray(target, np.float64))
  if o.shape != a.shape:
    raise ValueError(f'restored and target shapes differ: {o.shape} vs {a.shape}')
  if mask is None:
    return o, a
  m = np.broadcast_to(np.atleast_2d(np.asarray(mask, bool)), o.shape)
  return o, a, m


def masked_l1(restored, target, mask) -> np.ndarray:
  """Eq. 2 per clip: mean over every sample t of M_t |O_t - A_t|."""
  o, a, m = _check(restored, target, mask)
  return np.mean(m * np.abs(o - a), axis=1)


def db_image(x, reference_max, dynamic_range_db: float) -> np.ndarray:
  """Magnitudes -> [0, 1]: dB relative to reference_max, clipped at -dynamic_range_db."""
  tiny = np.finfo(np.float64).tiny
  db = 20 * np.log10(np.maximum(x, tiny) / np.maximum(reference_max, tiny))
  return np.clip(db / dynamic_range_db + 1.0, 0.0, 1.0)


def ssim(x, y, cfg: config.SSIMConfig = config.SSIM, data_range: float = 1.0) -> float:
  """Mean SSIM of two 2-D images with a Gaussian window, borders (the window's reach) cropped."""
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  filt = lambda z: gaussian_filter(z, cfg.sigma, truncate=cfg.truncate)
  mx, my = filt(x), filt(y)
  vx = filt(x * x) - mx * mx
  vy = filt(y * y) - my * my
  cxy = filt(x * y) - mx * my
  c1, c2 = (cfg.k1 * data_range) ** 2, (cfg.k2 * data_range) ** 2
  s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
  r = int(cfg.truncate * cfg.sigma + 0.5)  # the window's radius (11 x 11 for sigma 1.5)
  return float(s[r:s.shape[0] - r, r:s.shape[1] - r].mean())


def spectrogram_ssim(restored, target, sample_rate: int, stft_cfg=config.METRIC_STFT,
                     cfg: config.SSIMConfig = config.SSIM) -> np.ndarray:
  """SSIM per clip of the [frequency, time] dB images of the metric STFT."""
  o, a = _check(restored, target)
  hop = stft_cfg.hop(sample_rate)
  so = np.abs(spectrogram.stft(o, stft_cfg.n_fft, hop))
  sa = np.abs(spectrogram.stft(a, stft_cfg.n_fft, hop))
  out = np.empty(len(o))
  for i in range(len(o)):
    ref = sa[i].max()
    out[i] = ssim(db_image(so[i].T, ref, cfg.dynamic_range_db),
                  db_image(sa[i].T, ref, cfg.dynamic_range_db), cfg)
  return out


def snr_gap(restored, target, mask) -> np.ndarray:
  """SNR (dB) over the masked samples of each clip."""
  o, a, m = _check(restored, target, mask)
  return np.array([base_metrics.snr(a[i][m[i]][None], o[i][m[i]][None])[0] for i in range(len(o))])


def gap_frames(mask_row, n_fft: int, hop: int) -> np.ndarray:
  """Frames (center=False) whose whole window lies inside the gap of a 1-D mask."""
  start, end = config.gap_bounds(mask_row)
  k = np.arange(spectrogram.n_frames(len(mask_row), n_fft, hop, center=False))
  return k[(k * hop >= start) & (k * hop + n_fft <= end)]


def spectral_snr(restored, target, mask, sample_rate: int, stft_cfg=config.METRIC_STFT) -> np.ndarray:
  """SNR_MS-style: SNR of the metric-STFT magnitudes on the frames wholly inside the gap
  (nan when the gap is shorter than the window)."""
  o, a, m = _check(restored, target, mask)
  hop = stft_cfg.hop(sample_rate)
  out = np.full(len(o), np.nan)
  for i in range(len(o)):
    k = gap_frames(m[i], stft_cfg.n_fft, hop)
    if k.size == 0:
      continue
    lo, hi = k[0] * hop, k[-1] * hop + stft_cfg.n_fft
    so = np.abs(spectrogram.stft(o[i, lo:hi], stft_cfg.n_fft, hop, center=False))
    sa = np.abs(spectrogram.stft(a[i, lo:hi], stft_cfg.n_fft, hop, center=False))
    out[i] = base_metrics.snr(sa[None], so[None])[0]
  return out


def perceptual_distance(features, restored, target) -> np.ndarray:
  """Eq. 3 per clip: sum |Psi(O) - Psi(A)| / N_Psi, i.e. the mean absolute feature difference.

  features: clips [B, T] -> features [B, ...] (the layer before the last dense layer of a
  classifier: part 2 of issue 13 trains them; any callable works here).
  """
  o, a = _check(restored, target)
  fo = np.asarray(features(o), np.float64).reshape(len(o), -1)
  fa = np.asarray(features(a), np.float64).reshape(len(a), -1)
  return np.mean(np.abs(fo - fa), axis=1)
