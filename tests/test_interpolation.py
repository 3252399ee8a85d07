"""The interpolation baseline (issue 11) and the residual network that starts from it.

The reference is computed here from scratch (numpy FFT of hand-cut frames, scipy's Hann),
not with features.py, so the layout of the frames is checked too.
"""

import dataclasses

import numpy as np
import pytest
from scipy.signal import get_window

from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.context_encoder import features
from audio_context_encoder import methods
from audio_context_encoder.context_encoder import model as model_lib


def reference_interpolation(segment, sig):
  """Border frames cut by hand: before [Lc - M, Lc), after [L - Lc, L - Lc + M)."""
  window = get_window('hann', sig.M, fftbins=True)  # periodic Hann, peak 1
  frame = lambda start: np.abs(np.fft.rfft(segment[start:start + sig.M] * window))
  before, after = frame(sig.Lc - sig.M), frame(sig.L - sig.Lc)
  # Centres: before Lc - M/2, after L - Lc + M/2, gap frame j gap_region[0] + j a + M/2.
  centres = sig.gap_region[0] + sig.a * np.arange(sig.gap_frames) + sig.M // 2
  w = (centres - (sig.Lc - sig.M // 2)) / ((sig.L - sig.Lc + sig.M // 2) - (sig.Lc - sig.M // 2))
  return (1 - w)[:, None] * before + w[:, None] * after


@pytest.mark.parametrize('gap_ms, weights', [(64, np.arange(1, 12) / 12), (48, np.arange(1, 10) / 10)])
def test_interpolation_matches_hand_cut_frames(gap_ms, weights, gspi_segments):
  sig = config.signal_config(gap_ms)
  np.testing.assert_allclose(features.interpolation_weights(sig), weights, atol=1e-12)
  got = methods.interpolation_predictor(sig)(gspi_segments)
  want = np.stack([reference_interpolation(s.astype(np.float64), sig) for s in gspi_segments])
  assert got.shape == (8, sig.gap_frames, sig.bins)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_interpolation_never_reads_the_gap(gspi_segments):
  sig = config.signal_config(64)
  damaged = gspi_segments.copy()
  damaged[:, sig.Lc:sig.Lc + sig.Lg] = 0
  predict = methods.interpolation_predictor(sig)
  np.testing.assert_array_equal(predict(damaged), predict(gspi_segments))


def test_interp_is_near_exact_on_a_stationary_tone():
  """A steady tone has equal magnitudes in every frame: interpolation is the truth."""
  sig = config.signal_config(64)
  t = (np.arange(sig.L + 512) - 256) / sig.sample_rate
  audio = 0.5 * np.sin(2 * np.pi * np.array([[440.0], [1234.5]]) * t)
  out = evaluation.evaluate(audio, 'interp', 64)
  assert np.all(out['snr_mag'] > 60), out['snr_mag']
  assert np.all(out['snr_ms'] > 25), out['snr_ms']


def residual_config(preset='small', residual='interp', **network):
  cfg = config.get(preset)
  return cfg.replace(network=dataclasses.replace(cfg.network, residual=residual, **network))


def assert_interpolation(got, interp, residual):
  if residual == 'interp':  # the same two-frame formula
    np.testing.assert_array_equal(got, interp)
  else:  # a matrix product with zeros on the other frames: equal up to rounding
    np.testing.assert_allclose(got, interp, rtol=1e-6, atol=1e-7 * np.abs(interp).max())


@pytest.mark.parametrize('residual, context_magnitudes',
                         [('interp', False), ('interp', True), ('blend', False)])
def test_residual_model_at_step_zero_is_the_interpolation(tmp_path, gspi_segments, residual,
                                                          context_magnitudes):
  cfg = residual_config(residual=residual, context_magnitudes=context_magnitudes)
  model = model_lib.build_model(cfg)
  interp = methods.interpolation_predictor(cfg.signal)(gspi_segments)
  ctx = features.context_features(gspi_segments, cfg.signal)
  assert_interpolation(model(ctx, training=False).numpy()[..., 0], interp, residual)
  # The residual choice travels inside the .keras file.
  path = str(tmp_path / 'residual.keras')
  model_lib.save_model(model, cfg, path)
  loaded, loaded_cfg = model_lib.load_model(path)
  assert loaded_cfg.network.residual == residual
  assert loaded_cfg.network.context_magnitudes == context_magnitudes
  assert_interpolation(loaded(ctx, training=False).numpy()[..., 0], interp, residual)


def test_blend_weights_train_and_stay_out_of_the_l2_term(gspi_segments):
  """The blend starts at the interpolation, gets a gradient, and is not a `kernel`."""
  import tensorflow as tf
  cfg = residual_config(residual='blend')
  model = model_lib.build_model(cfg)
  blend = model.get_layer('interpolation').blend
  np.testing.assert_array_equal(blend.numpy()[100],
                                features.interpolation_matrix(cfg.signal).astype(np.float32))
  assert all(k is not blend for k in model_lib.kernels(model))
  ctx = features.context_features(gspi_segments, cfg.signal)
  target = features.gap_magnitude(gspi_segments, cfg.signal)[..., None]
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum((model(ctx, training=True) - target) ** 2)
  grad = tape.gradient(loss, blend)
  assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_residual_is_off_in_the_paper_preset():
  for preset in config.PRESETS:
    assert config.get(preset).network.residual == 'none'
  names = [layer.name for layer in model_lib.build_model(config.get('small')).layers]
  assert 'interpolation' not in names
  with pytest.raises(ValueError, match='residual'):
    model_lib.build_model(residual_config().replace(network=dataclasses.replace(
        residual_config().network, residual='cubic')))


def test_context_magnitudes_are_the_moduli_of_the_input(gspi_segments):
  cfg = residual_config(context_magnitudes=True)
  ctx = features.context_features(gspi_segments, cfg.signal).numpy()
  out = model_lib.ContextMagnitudes()(ctx).numpy()
  np.testing.assert_array_equal(out[..., :4], ctx)
  np.testing.assert_allclose(out[..., 4], np.hypot(ctx[..., 0], ctx[..., 1]), rtol=1e-6)
  np.testing.assert_allclose(out[..., 5], np.hypot(ctx[..., 2], ctx[..., 3]), rtol=1e-6)
  model = model_lib.build_model(cfg)
  assert model.get_layer('conv1').kernel.shape[2] == 6  # the paper's conv1 sees 4 channels


def test_context_magnitudes_are_off_in_every_preset():
  for preset in config.PRESETS:
    assert not config.get(preset).network.context_magnitudes
  names = [layer.name for layer in model_lib.build_model(config.get('small')).layers]
  assert 'context_magnitudes' not in names
