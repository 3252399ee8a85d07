"""Feature layout (paper §2.1, §2.4) checked against ltfatpy's dgtreal and numpy."""

import numpy as np
import pytest
import tensorflow as tf
from ltfatpy import dgtreal, firwin

from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.context_encoder import features
from audio_context_encoder.dsp import phase

GAPS = [64, 48]


def ltfat_magnitudes(x, sig):
  """|dgtreal(x, hann M, a, M, 'timeinv')| with ltfatpy's own Hann (peak 1), [columns, bins]."""
  window, _ = firwin('hann', sig.M, norm='peak')
  c, _, _ = dgtreal(np.asarray(x, np.float64), window, sig.a, sig.M, sig.L, 'timeinv')
  return np.abs(c).T


def rel_err(a, b):
  return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(np.asarray(b))


@pytest.mark.parametrize('gap_ms, ctx_frames, gap_frames', [(64, 16, 11), (48, 17, 9)])
def test_shapes(gap_ms, ctx_frames, gap_frames, gspi_segments):
  sig = config.signal_config(gap_ms)
  assert sig.context_frames == ctx_frames and sig.gap_frames == gap_frames
  assert sig.clean_context_frames * 2 + sig.gap_frames == sig.segment_frames == 37
  assert features.context_features(gspi_segments, sig).shape == (8, ctx_frames, 257, 4)
  assert features.context_features(gspi_segments[0], sig).shape == (ctx_frames, 257, 4)
  assert features.gap_magnitude(gspi_segments, sig).shape == (8, gap_frames, 257)
  assert features.gap_complex(gspi_segments, sig).shape == (8, gap_frames, 257, 2)


def test_gap_region_matches_reference():
  sig = config.signal_config(64)
  assert sig.gap_region == (1664, 3456)
  assert sig.gap_dgt_columns == (15, 26)


@pytest.mark.parametrize('gap_ms', GAPS)
def test_padding_and_channel_order(gap_ms, rng):
  """Channels are Re/Im of the zero-padded before/after contexts, in that order."""
  sig = config.signal_config(gap_ms)
  x = rng.standard_normal(sig.L).astype(np.float32)
  feats = features.context_features(x, sig).numpy()
  window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(sig.M) / sig.M)  # periodic Hann, peak 1
  before = np.concatenate([x[:sig.Lc], np.zeros(sig.pad)])
  after = np.concatenate([np.zeros(sig.pad), x[-sig.Lc:]])
  for side, padded in enumerate([before, after]):
    frames = np.stack([padded[k * sig.a:k * sig.a + sig.M] for k in range(sig.context_frames)])
    spec = np.fft.rfft(frames * window, axis=-1)
    np.testing.assert_allclose(feats[..., 2 * side], spec.real, atol=2e-4 * np.abs(spec).max())
    np.testing.assert_allclose(feats[..., 2 * side + 1], spec.imag, atol=2e-4 * np.abs(spec).max())


@pytest.mark.parametrize('gap_ms', GAPS)
def test_padding_is_zero_and_gap_is_ignored(gap_ms, rng):
  """Context features do not depend on the gap samples: the padding is exactly zero."""
  sig = config.signal_config(gap_ms)
  x = rng.standard_normal(sig.L).astype(np.float32)
  y = x.copy()
  y[sig.Lc:sig.Lc + sig.Lg] = rng.standard_normal(sig.Lg) * 100
  np.testing.assert_array_equal(features.context_features(x, sig).numpy(),
                                features.context_features(y, sig).numpy())
  # A signal that lives only in the gap gives all-zero context features.
  z = np.zeros(sig.L, np.float32)
  z[sig.Lc:sig.Lc + sig.Lg] = 1.0
  assert np.all(features.context_features(z, sig).numpy() == 0)


@pytest.mark.parametrize('gap_ms', GAPS)
def test_context_matches_ltfatpy(gap_ms, gspi_segments):
  """Context magnitudes = dgtreal columns of the segment with its gap zeroed."""
  sig = config.signal_config(gap_ms)
  feats = features.context_features(gspi_segments, sig).numpy()
  after_start = (sig.L - sig.Lc - sig.pad) // sig.a  # segment frame of S_a frame 0
  for i, seg in enumerate(gspi_segments):
    zeroed = seg.astype(np.float64)
    zeroed[sig.Lc:sig.Lc + sig.Lg] = 0
    ref = ltfat_magnitudes(zeroed, sig)
    n = sig.context_frames
    mag_b = np.hypot(feats[i, ..., 0], feats[i, ..., 1])
    mag_a = np.hypot(feats[i, ..., 2], feats[i, ..., 3])
    assert rel_err(mag_b, ref[sig.dgt_offset:sig.dgt_offset + n]) < 1e-4
    start = after_start + sig.dgt_offset
    assert rel_err(mag_a, ref[start:start + n]) < 1e-4


@pytest.mark.parametrize('gap_ms', GAPS)
def test_gap_target_matches_ltfatpy(gap_ms, gspi_segments):
  sig = config.signal_config(gap_ms)
  target = features.gap_magnitude(gspi_segments, sig).numpy()
  c0, c1 = sig.gap_dgt_columns
  for i, seg in enumerate(gspi_segments):
    assert rel_err(target[i], ltfat_magnitudes(seg, sig)[c0:c1]) < 1e-4


@pytest.mark.parametrize('gap_ms', GAPS)
def test_round_trip(gap_ms, gspi_segments):
  """segment -> true gap coefficients (these STFT features) -> the one synthesis path
  (phase.synthesize_gap) recovers the segment."""
  sig = config.signal_config(gap_ms)
  gap = dgt.from_stft_frames(features.gap_stft(gspi_segments, sig).numpy(), sig)
  restored = phase.synthesize_gap(gspi_segments, gap, sig)
  assert rel_err(restored, gspi_segments) < 1e-5
  start, end = sig.gap_region
  assert rel_err(restored[:, start:end], gspi_segments[:, start:end]) < 1e-5
  # Outside the resynthesised region the samples are untouched.
  np.testing.assert_array_equal(restored[:, :start], gspi_segments[:, :start])
  np.testing.assert_array_equal(restored[:, end:], gspi_segments[:, end:])


def test_wrong_gap_coefficients_change_only_the_gap_region(gspi_segments):
  sig = config.signal_config(64)
  zeros = np.zeros([8, sig.gap_frames, sig.bins], np.complex64)
  restored = phase.synthesize_gap(gspi_segments, zeros, sig)
  start, end = sig.gap_region
  assert np.abs(restored[:, start:end] - gspi_segments[:, start:end]).max() > 1e-3
  np.testing.assert_array_equal(restored[:, end:], gspi_segments[:, end:])


@pytest.mark.parametrize('bad, message', [
    (np.zeros(5000, np.float32), 'must be 5120 samples'),
    (np.zeros((2, 5121), np.float32), 'must be 5120 samples'),
    (np.zeros(5120, np.int16), 'floating point'),
    (np.zeros((2, 3, 5120), np.float32), 'shape'),
    ([0] * 5120, 'floating point'),
])
def test_bad_input_is_named(bad, message):
  with pytest.raises(ValueError, match=message):
    features.context_features(bad, config.signal_config(64))


@pytest.mark.parametrize('value', [np.nan, np.inf, -np.inf])
def test_non_finite_input(value):
  x = np.zeros(5120, np.float32)
  x[100] = value
  with pytest.raises(tf.errors.InvalidArgumentError, match='NaN or infinite'):
    features.gap_magnitude(x, config.signal_config(64))


def test_integer_tensor_rejected():
  with pytest.raises(ValueError, match='floating point'):
    features.gap_magnitude(tf.zeros([5120], tf.int32), config.signal_config(64))
