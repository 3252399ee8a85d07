"""Long-gap networks (Chang et al. 2019, Fig. 2): gated conv, both models, masking, paste-back,
save / load, receptive fields against the built networks' gradients and impulse responses."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder.dsp import spectrogram, tf_stft
from audio_context_encoder.longgap import (config, losses, metrics, model_config, models, receptive_field,
                                           training)
from audio_context_encoder.longgap.gated import GatedConv1D, GatedConv2D

TINY_WAVE = model_config.WaveModelConfig(channels=4, kernel_size=3, dilations=(1, 2, 4, 8))
TINY_SPEC = model_config.SpectrogramModelConfig(
    channels=(4, 6, 8), first_kernel=(3, 3), strides=((1, 2), (2, 2)),
    dilations=((2, 1), (4, 1)), n_fft=64, hop=16)


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


def test_gated_conv_1d_is_eq_1_by_hand(rng):
  layer = GatedConv1D(3, 3, dilation_rate=2, negative_slope=0.1)
  x = rng.normal(size=(2, 20, 5)).astype(np.float32)
  y = np.asarray(layer(x))
  wf, wg = np.asarray(layer.feature_kernel), np.asarray(layer.gating_kernel)
  layer.feature_bias.assign(rng.normal(size=3).astype(np.float32))
  layer.gating_bias.assign(rng.normal(size=3).astype(np.float32))
  y = np.asarray(layer(x))
  bf, bg = np.asarray(layer.feature_bias), np.asarray(layer.gating_bias)
  xp = np.pad(x, ((0, 0), (2, 2), (0, 0)))  # 'same' for kernel 3, dilation 2
  f = sum(np.einsum('btc,cf->btf', xp[:, 2 * j:2 * j + 20], wf[j]) for j in range(3)) + bf
  g = sum(np.einsum('btc,cf->btf', xp[:, 2 * j:2 * j + 20], wg[j]) for j in range(3)) + bg
  want = sigmoid(g) * np.where(f > 0, f, 0.1 * f)
  np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-5)


def test_gated_conv_shapes_strides_and_config():
  x = np.zeros((2, 9, 7, 3), np.float32)
  layer = GatedConv2D(5, (3, 5), strides=(1, 2))
  assert tuple(layer(x).shape) == (2, 9, 4, 5)
  assert layer.compute_output_shape((2, 9, 7, 3)) == (2, 9, 4, 5)
  assert tuple(GatedConv2D(4, 3, dilation_rate=(4, 1))(x).shape) == (2, 9, 7, 4)
  assert tuple(GatedConv1D(6, 5, dilation_rate=3)(np.zeros((1, 11, 2), np.float32)).shape) == (1, 11, 6)
  clone = GatedConv2D.from_config(layer.get_config())
  assert (clone.kernel_size, clone.strides, clone.dilation_rate, clone.filters) == ((3, 5), (1, 2), (1, 1), 5)
  with pytest.raises(ValueError, match='both strides'):
    GatedConv1D(2, 3, strides=2, dilation_rate=2)
  with pytest.raises(ValueError, match='kernel_size'):
    GatedConv2D(2, (3, 3, 3))


def gap_inputs(rng, batch, length, start, end):
  x = rng.normal(size=(batch, length)).astype(np.float32)
  m = np.zeros((batch, length), np.float32)
  m[:, start:end] = 1
  return x, m


def test_wave_model_shapes_masking_and_paste_back(rng):
  model = models.build_wave_model(TINY_WAVE)
  x, m = gap_inputs(rng, 2, 300, 100, 160)
  y = np.asarray(model([x, m]))
  assert y.shape == (2, 300)
  np.testing.assert_array_equal(y[:, :100], x[:, :100])  # bit-exact outside the gap
  np.testing.assert_array_equal(y[:, 160:], x[:, 160:])
  assert np.all(y[:, 100:160] != x[:, 100:160])
  x2 = x.copy()
  x2[:, 100:160] = rng.normal(size=(2, 60)) * 100
  x2[0, 120] = np.nan
  np.testing.assert_array_equal(np.asarray(model([x2, m])), y)  # masked values never reach it
  x3 = x.copy()
  x3[:, 90] += 1.0  # a known sample does change the gap
  assert not np.array_equal(np.asarray(model([x3, m]))[:, 100:160], y[:, 100:160])
  assert tuple(model([x[:, :77], m[:, :77]]).shape) == (2, 77)  # any length


@pytest.mark.parametrize('magnitude', ['log', 'linear'])
def test_spectrogram_model_shapes_masking_and_paste_back(rng, magnitude):
  cfg = dataclasses.replace(TINY_SPEC, magnitude=magnitude)
  clips, sample_mask = gap_inputs(rng, 2, 1000, 400, 600)
  mag, fmask = models.spectrogram_inputs(clips, sample_mask > 0, cfg)
  assert mag.shape == (2, 63, 33) and fmask.shape == (2, 63)
  model = models.build_spectrogram_model(cfg, 63, 33)  # 63 x 33 is off the 2 x 4 grid: padded
  y = np.asarray(model([mag, fmask]))
  assert y.shape == (2, 63, 33) and np.all(y >= 0)
  known = fmask[0] == 0
  np.testing.assert_array_equal(y[:, known], mag[:, known])
  assert np.all(y[:, ~known] != mag[:, ~known])
  mag2 = mag.copy()
  mag2[:, ~known] = rng.uniform(size=mag2[:, ~known].shape) * 1e3
  np.testing.assert_array_equal(np.asarray(model([mag2, fmask])), y)


def test_frame_mask_marks_every_window_touching_the_gap():
  m = np.zeros((1, 1000), bool)
  m[0, 400:600] = True
  fm = np.asarray(tf_stft.frame_mask(m, 64, 16))[0] > 0
  k = np.arange(len(fm))
  by_hand = (k * 16 - 32 < 600) & (k * 16 + 32 > 400)  # frame k covers [16 k - 32, 16 k + 32)
  np.testing.assert_array_equal(fm, by_hand)
  assert fm.sum() == 16  # frames 24 ... 39


def test_save_load_round_trip(tmp_path, rng):
  x, m = gap_inputs(rng, 1, 200, 50, 90)
  wave = models.build_wave_model(TINY_WAVE)
  wave.save(tmp_path / 'wave.keras')
  loaded = keras.saving.load_model(tmp_path / 'wave.keras')
  np.testing.assert_array_equal(np.asarray(loaded([x, m])), np.asarray(wave([x, m])))
  spec = models.build_spectrogram_model(TINY_SPEC, 16, 33)
  mag = rng.uniform(size=(1, 16, 33)).astype(np.float32)
  fm = np.zeros((1, 16), np.float32)
  fm[:, 6:10] = 1
  spec.save(tmp_path / 'spec.keras')
  loaded = keras.saving.load_model(tmp_path / 'spec.keras')
  np.testing.assert_array_equal(np.asarray(loaded([mag, fm])), np.asarray(spec([mag, fm])))
  assert isinstance(loaded.get_layer('core').get_layer('gated0'), GatedConv2D)
  domain = lambda model: np.asarray(training.loss_view('spec', model)([mag, fm]))
  np.testing.assert_array_equal(domain(loaded), domain(spec))  # the loss's output survives too


def test_wave_receptive_field_is_the_impulse_response_width(rng):
  """One input sample changed: exactly receptive_field core outputs change (stride-free, so
  the impulse response and the receptive field have one width)."""
  core = models.build_wave_model(TINY_WAVE).get_layer('core')
  rf = models.wave_receptive_field(TINY_WAVE)
  assert rf == 1 + 2 * (1 + 2 + 4 + 8) == 31
  x = np.zeros((1, 200, 2), np.float32)
  x[..., 0] = rng.normal(size=200)
  x2 = x.copy()
  x2[0, 100, 0] += 1.0
  changed = np.flatnonzero(np.abs(np.asarray(core(x2)) - np.asarray(core(x)))[0, :, 0] > 0)
  assert len(changed) == rf and changed[0] == 100 - rf // 2 and changed[-1] == 100 + rf // 2


def gradient_width(core, shape, axis, positions, rng):
  """Max over output positions (along axis, mid-way along the other) of how many input
  positions of the signal channel have a non-zero gradient."""
  x = tf.constant(rng.normal(size=(1,) + shape + (2,)).astype(np.float32))
  widths = []
  for p in positions:
    idx = [shape[0] // 2, shape[1] // 2]
    idx[axis] = p
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = core(x)[0, idx[0], idx[1], 0]
    g = np.abs(np.asarray(tape.gradient(y, x))[0, ..., 0]).max(axis=1 - axis)
    nz = np.flatnonzero(g > 0)
    widths.append(nz[-1] - nz[0] + 1)
  return max(widths)


def test_spectrogram_receptive_field_matches_the_gradients(rng):
  frames, bins = 96, 160
  core = models.spec_core(TINY_SPEC, frames, bins)
  rf_t, rf_f = models.spec_receptive_field(TINY_SPEC, frames, bins)
  assert (rf_t, rf_f) == models.spec_receptive_field(TINY_SPEC)  # the interior value
  # output positions in the interior, a whole period (product of the strides) of them
  assert gradient_width(core, (frames, bins), 0, range(44, 52), rng) == rf_t
  assert gradient_width(core, (frames, bins), 1, range(76, 84), rng) == rf_f


def test_receptive_field_by_hand_and_table3():
  op = receptive_field.AxisOp
  assert receptive_field.receptive_field([op('conv', 3), op('conv', 3, dilation=4)]) == 11
  # stride 2 then a kernel 3 at the half resolution: 3 + 2 * 2 = 7 ...
  assert receptive_field.receptive_field([op('conv', 3, stride=2), op('conv', 3)]) == 7
  # ... and nearest upsampling back: a fine-grid kernel 3 may straddle two coarse positions.
  assert receptive_field.receptive_field([op('conv', 1, stride=2), op('up', stride=2), op('conv', 3)]) == 3
  assert [receptive_field.chang_table3(n) for n in range(-1, 7)] == [21, 29, 45, 61, 77, 93, 109, 125]


@pytest.mark.parametrize('kind', ['wave', 'spec'])
def test_presets_reach_over_the_protocol_gaps(kind):
  """Every position of a training gap sees known context on both sides (Table 3's lesson):
  the paper presets on both datasets, the small ones on SC09 (and only the small spectrogram
  model on ESC-50)."""
  for preset, protocols in (('paper', (config.SC09, config.ESC50)), ('small', (config.SC09,))):
    for protocol in protocols:
      rf, needed = models.gap_reach(kind, model_config.get(kind, preset), protocol)
      assert rf >= needed, (preset, protocol.name)
  rf, needed = models.gap_reach('wave', model_config.get('wave', 'small'), config.ESC50)
  assert rf < needed
  assert models.gap_reach('wave', TINY_WAVE, config.SC09) == (31, 6401)
  # SC09's 0.2 s gap (3200 samples) touches 25 + 3 frames of the Hann 512 / hop 128 STFT
  assert models.gap_reach('spec', model_config.get('spec', 'paper'), config.SC09)[1] == 2 * 28 + 1
  with pytest.raises(ValueError, match='unknown preset'):
    model_config.get('wave', 'huge')
  with pytest.raises(ValueError, match='unknown long-gap model'):
    model_config.get('gan', 'paper')


def test_masked_l1_equals_the_metric_and_ignores_the_known_part(rng):
  o, a = rng.normal(size=(3, 500)), rng.normal(size=(3, 500))
  m = np.zeros((3, 500), bool)
  m[:, 100:200] = True
  np.testing.assert_allclose(np.asarray(losses.masked_l1(o, a, m)), metrics.masked_l1(o, a, m), rtol=1e-5)
  o2 = o.copy()
  o2[:, :100] += 3
  np.testing.assert_allclose(np.asarray(losses.masked_l1(o2, a, m)), metrics.masked_l1(o, a, m), rtol=1e-5)
  # a frame mask [B, frames, 1] broadcasts over bins
  s, t = rng.uniform(size=(2, 8, 5)), rng.uniform(size=(2, 8, 5))
  fm = np.zeros((2, 8, 1))
  fm[:, 3:5] = 1
  by_hand = np.abs(s - t)[:, 3:5].sum(axis=(1, 2)) / 40
  np.testing.assert_allclose(np.asarray(losses.masked_l1(s, t, fm)), by_hand, rtol=1e-5)


def test_perceptual_loss_is_eq_3_and_trains_only_through_the_output(rng):
  psi = keras.Sequential([keras.Input((64,)), keras.layers.Reshape((64, 1)),
                          keras.layers.Conv1D(4, 5, strides=4, activation='relu')])
  o = tf.Variable(rng.normal(size=(2, 64)).astype(np.float32))
  a = tf.Variable(rng.normal(size=(2, 64)).astype(np.float32))
  want = metrics.perceptual_distance(lambda z: np.asarray(psi(z.astype(np.float32))), o.numpy(), a.numpy())
  with tf.GradientTape() as tape:
    loss = losses.perceptual_loss(psi, o, a)
    total = tf.reduce_sum(loss)
  np.testing.assert_allclose(np.asarray(loss), want, rtol=1e-5)
  g_o, g_a = tape.gradient(total, [o, a])
  assert g_a is None and np.abs(g_o.numpy()).sum() > 0
  parts = losses.total_loss(o, a, np.ones((2, 64)), psi, perceptual_weight=0.5)
  np.testing.assert_allclose(float(parts['total']), float(parts['masked_l1']) + 0.5 * want.mean(), rtol=1e-5)


@pytest.mark.parametrize('preset', ['paper', 'small'])
def test_presets_build_at_sc09_size(preset):
  """Both presets on one 1 s SC09 clip with its fixed test gap: shapes and paste-back."""
  x = np.sin(np.arange(16000) * 0.05, dtype=np.float32)[None] * 0.5
  m = config.SC09.test_mask_array(1)
  wave = models.build_wave_model(model_config.get('wave', preset))
  y = np.asarray(wave([x, m.astype(np.float32)]))
  np.testing.assert_array_equal(y[~m], x[~m])
  cfg = model_config.get('spec', preset)
  mag, fm = models.spectrogram_inputs(x, m, cfg)
  spec = models.build_spectrogram_model(cfg, *mag.shape[1:])
  out = np.asarray(spec([mag, fm]))
  assert out.shape == mag.shape == (1, 126, 257)
  np.testing.assert_array_equal(out[fm == 0], mag[fm == 0])


def test_perceptual_features_from_a_classifier_and_on_spectrograms(rng):
  clf = keras.Sequential([keras.Input((9, 33)), keras.layers.Flatten(name='flat'),
                          keras.layers.Dense(7, activation='relu', name='hidden'),
                          keras.layers.Dense(3, name='logits')])
  psi = losses.penultimate(clf)
  assert not psi.trainable and psi.output.shape == (None, 7)
  x = rng.normal(size=(2, 128)).astype(np.float32)
  spec = losses.on_spectrogram(psi, 64, 16)
  mag = np.abs(spectrogram.stft(x, 64, 16)).astype(np.float32)  # [2, 9, 33]
  np.testing.assert_allclose(np.asarray(spec(x)), np.asarray(psi(mag)), rtol=1e-4, atol=1e-5)
  flat = clf.get_layer('flat')(mag)
  np.testing.assert_allclose(np.asarray(spec(x)), np.asarray(clf.get_layer('hidden')(flat)), rtol=1e-4, atol=1e-5)
  o = tf.Variable(x)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(losses.perceptual_loss(spec, o, x[::-1].copy()))
  assert float(loss) > 0 and np.abs(tape.gradient(loss, o).numpy()).sum() > 0
  with pytest.raises(ValueError, match='no Dense'):
    losses.penultimate(keras.Sequential([keras.Input((4,)), keras.layers.ReLU()]))


@pytest.mark.parametrize('phase', ['gl', 'pghi+fgla'])
def test_inpaint_spectrogram_to_clips_with_either_phase(phase):
  """Magnitudes from the model, phase by phase_options; the clip is bit-exact outside the gap,
  and the gap is filled (not left silent)."""
  cfg = dataclasses.replace(model_config.get('spec', 'small'), channels=(4, 4, 4))
  x = (np.sin(np.arange(8000) * 0.07) * 0.5)[None]
  m = np.zeros((1, 8000), bool)
  m[0, 3000:4600] = True
  mag, _ = models.spectrogram_inputs(x, m, cfg)
  model = models.build_spectrogram_model(cfg, *mag.shape[1:])
  y = models.inpaint_spectrogram(model, x, m, cfg, phase, iterations=5)
  np.testing.assert_array_equal(y[~m], x[~m])
  assert np.abs(y[m]).max() > 0.01
