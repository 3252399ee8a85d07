"""Long-gap metrics against independent computations (scikit-image SSIM, librosa STFT, by hand)."""

import numpy as np
import pytest

from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import metrics
from audio_context_encoder.dsp import spectrogram


def test_masked_l1_is_the_mean_over_all_samples_of_the_masked_error(rng):
  a = rng.normal(size=(3, 1000))
  o = a + rng.normal(size=(3, 1000))
  m = np.zeros((3, 1000), bool)
  m[:, 400:600] = True
  by_hand = [np.abs(o[i, 400:600] - a[i, 400:600]).sum() / 1000 for i in range(3)]
  np.testing.assert_allclose(metrics.masked_l1(o, a, m), by_hand)
  o2 = o.copy()
  o2[:, :400] += 5.0  # errors outside the mask do not count
  np.testing.assert_allclose(metrics.masked_l1(o2, a, m), by_hand)


def test_ssim_equals_scikit_image(rng):
  from skimage.metrics import structural_similarity
  x = rng.uniform(size=(60, 90))
  y = np.clip(x + 0.2 * rng.normal(size=x.shape), 0, 1)
  ref = structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False)
  assert metrics.ssim(x, y) == pytest.approx(ref, abs=1e-10)
  assert metrics.ssim(x, x) == pytest.approx(1.0)


def test_spectrogram_ssim_uses_the_stated_stft_and_image(rng):
  from skimage.metrics import structural_similarity
  import librosa
  sr = 16000
  a = rng.normal(size=(1, sr)) * 0.1
  o = a.copy()
  o[:, 6400:9600] = 0
  hop = config.METRIC_STFT.hop(sr)
  assert hop == 200
  def image(x, ref):
    s = np.abs(librosa.stft(x, n_fft=2048, hop_length=200, center=True, pad_mode='constant'))
    return np.clip(20 * np.log10(np.maximum(s, 1e-300) / ref) / 80 + 1, 0, 1)
  ref_max = np.abs(librosa.stft(a[0], n_fft=2048, hop_length=200, pad_mode='constant')).max()
  want = structural_similarity(image(o[0], ref_max), image(a[0], ref_max), data_range=1.0,
                               gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
  assert image(a[0], ref_max).shape == (1025, 81)  # the paper's "1024 x 80"
  got = metrics.spectrogram_ssim(o, a, sr)
  assert got[0] == pytest.approx(want, abs=1e-6)
  assert metrics.spectrogram_ssim(a, a, sr)[0] == pytest.approx(1.0)


def test_snr_gap_and_spectral_snr(rng):
  sr = 16000
  a = rng.normal(size=(2, sr))
  m = config.SC09.test_mask_array(2)
  o = a.copy()
  o[m] *= 0.9  # error = 0.1 a in the gap: SNR = 20 dB exactly, in samples and in magnitudes
  np.testing.assert_allclose(metrics.snr_gap(o, a, m), 20.0)
  np.testing.assert_allclose(metrics.spectral_snr(o, a, m, sr), 20.0)
  o[~m] = 0  # outside the gap nothing counts
  np.testing.assert_allclose(metrics.snr_gap(o, a, m), 20.0)
  frames = metrics.gap_frames(m[0], 2048, 200)
  assert frames[0] * 200 >= 6400 and frames[-1] * 200 + 2048 <= 9600 and len(frames) == 6
  zeros = np.where(m, 0.0, a)
  np.testing.assert_allclose(metrics.snr_gap(zeros, a, m), 0.0, atol=1e-12)


def test_perceptual_distance_is_eq3_for_any_feature_extractor(rng):
  w = rng.normal(size=(100, 7))
  feats = lambda x: np.tanh(x[:, :100] @ w)
  a = rng.normal(size=(3, 200))
  o = a + 0.1 * rng.normal(size=a.shape)
  want = [np.sum(np.abs(feats(o)[i] - feats(a)[i])) / 7 for i in range(3)]
  np.testing.assert_allclose(metrics.perceptual_distance(feats, o, a), want)


def test_stft_round_trip_and_griffin_lim_reduce_the_spectral_error(rng):
  x = rng.normal(size=(2, 4000))
  s = spectrogram.stft(x, 512, 128)
  np.testing.assert_allclose(spectrogram.istft(s, 512, 128, 4000), x, atol=1e-9)
  t = np.arange(4000) / 16000
  tone = np.sin(2 * np.pi * 440 * t)[None]
  mag = np.abs(spectrogram.stft(tone, 512, 128))
  def err(y):
    return np.linalg.norm(np.abs(spectrogram.stft(y, 512, 128)) - mag) / np.linalg.norm(mag)
  assert err(spectrogram.griffin_lim(mag, 512, 128, 4000, iterations=30)) < 0.5 * err(
      spectrogram.griffin_lim(mag, 512, 128, 4000, iterations=0))


def test_mask_errors_are_one_line():
  with pytest.raises(ValueError, match='contiguous'):
    config.gap_bounds(np.array([0, 1, 0, 1], bool))
  with pytest.raises(ValueError, match='unknown long-gap dataset'):
    config.get('sc10')
