"""The baseline-start spectrogram network (a deviation, off by default): untrained, it returns the
interpolation baseline exactly; it learns a correction from there; the paper's network is as it was."""

import dataclasses

import numpy as np
import pytest

from audio_context_encoder.longgap import baselines, config, model_config, models
from tests.test_longgap_models import TINY_SPEC

BASE = dataclasses.replace(TINY_SPEC, baseline='interp')
T = 1600  # 0.1 s at 16 kHz: 101 frames of the tiny STFT (hop 16)


def clips_and_mask(rng, n=3, gaps=((500, 740), (0, 160), (1400, 1600))):
  t = np.arange(T) / 16000
  x = np.stack([0.3 * np.sin(2 * np.pi * (300 + 150 * i) * t) + 0.01 * rng.standard_normal(T)
                for i in range(n)])
  m = np.zeros_like(x, bool)
  for i, (s, e) in enumerate(gaps[:n]):
    m[i, s:e] = True
  return x, m


def test_frame_interpolation_layer_equals_the_numpy_one(rng):
  mag = rng.random((4, 30, 7)).astype(np.float32)
  fmask = np.zeros((4, 30), np.float32)
  fmask[0, 10:15] = 1  # inside
  fmask[1, 0:6] = 1  # at the start: the frame after it, held
  fmask[2, 25:] = 1  # at the end: the frame before it, held
  # clip 3: no gap
  got = np.asarray(models.FrameInterpolation()([mag[..., None], fmask[:, :, None, None]]))[..., 0]
  want = baselines.interpolate_frames(mag, fmask)
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
  np.testing.assert_array_equal(got[3], mag[3])
  np.testing.assert_allclose(want[0, 12], (mag[0, 9] + mag[0, 15]) / 2, rtol=1e-6)
  np.testing.assert_allclose(want[1, :6], np.broadcast_to(mag[1, 6], (6, 7)), rtol=1e-12)
  np.testing.assert_allclose(want[2, 25:], np.broadcast_to(mag[2, 24], (5, 7)), rtol=1e-12)


def test_untrained_network_returns_the_baseline(rng):
  import keras
  x, m = clips_and_mask(rng)
  frames, bins = 1 + T // BASE.hop, BASE.n_fft // 2 + 1
  model = models.build_spectrogram_model(BASE, frames, bins)
  mag, fmask = models.spectrogram_inputs(x, m, BASE)
  domain = keras.Model(model.inputs, model.get_layer(models.DOMAIN_OUTPUT).output)
  got_domain = np.asarray(domain([mag, fmask]))[..., 0]
  base = np.asarray(models.FrameInterpolation()([mag[..., None], fmask[:, :, None, None]]))[..., 0]
  gap = fmask[:, :, None] > 0.5
  # the correction path adds exactly 0: the network's log magnitudes are the baseline's, bit for bit
  want_domain = np.asarray(models.MagnitudeDomain('log', BASE.log_floor)(base))
  np.testing.assert_array_equal(np.where(gap, got_domain, 0), np.where(gap, want_domain, 0))
  # its magnitudes are the numpy interpolation's (float32, and exp(log(|S| + floor)) = |S| + floor)
  out = np.asarray(model([mag, fmask]))
  np.testing.assert_allclose(out, baselines.interpolate_frames(mag, fmask), rtol=1e-5, atol=2e-5)
  # and the waveform of the clip with context on both sides (the protocols' test gaps), through
  # the same masked PGHI + FGLA, is the numpy baseline's (gaps at a clip's end fall back to
  # Griffin-Lim from zero phase over the whole clip, which the floor's 1e-5 moves visibly)
  wave = models.inpaint_spectrogram(model, x[:1], m[:1], BASE, 'pghi+fgla', 20)
  stft = config.MethodSTFT(n_fft=BASE.n_fft, hop=BASE.hop)
  ref = baselines.SpectrogramInterpolation(20, stft).fill(x[:1], m[:1])
  assert np.max(np.abs(wave - ref)) < 1e-3 * np.max(np.abs(ref[m[:1]]))
  np.testing.assert_array_equal(wave[~m[:1]], x[:1][~m[:1]])


def test_it_learns_a_correction_and_saves(tmp_path, rng):
  import keras
  import tensorflow as tf
  from audio_context_encoder.longgap import training
  x, m = clips_and_mask(rng)
  frames, bins = 1 + T // BASE.hop, BASE.n_fft // 2 + 1
  model = models.build_spectrogram_model(BASE, frames, bins)
  view = training.loss_view('spec', model)
  mag, fmask = models.spectrogram_inputs(x, m, BASE)
  before = np.asarray(model([mag, fmask]))
  opt = keras.optimizers.Adam(1e-2)
  for _ in range(3):
    with tf.GradientTape() as tape:
      loss = training.compute_loss('spec', view, x.astype(np.float32), m.astype(np.float32), BASE,
                                   training=True)['total']
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
  after = np.asarray(model([mag, fmask]))
  gap = np.broadcast_to(fmask[:, :, None] > 0.5, after.shape)
  assert np.max(np.abs(after - before)[gap]) > 1e-4  # the correction moved
  np.testing.assert_array_equal(after[~gap], before[~gap])  # known frames pasted back
  path = str(tmp_path / 'm.keras')
  model.save(path)
  again = keras.models.load_model(path, compile=False)
  np.testing.assert_allclose(np.asarray(again([mag, fmask])), after, rtol=1e-6)


def test_the_papers_network_is_unchanged_and_bad_configs_are_refused():
  paper = models.build_spectrogram_model(TINY_SPEC, 101, 33)
  names = {layer.name for layer in paper.layers}
  assert 'baseline_interp' not in names and 'baseline_plus_correction' not in names
  core = paper.get_layer('core').get_layer('to_magnitude')
  assert np.any(np.asarray(core.kernel) != 0)  # glorot, as before
  assert model_config.get('spec', 'small').baseline == ''
  with pytest.raises(ValueError, match='unknown baseline'):
    dataclasses.replace(TINY_SPEC, baseline='lpc')
  with pytest.raises(ValueError, match='magnitude must be log'):
    dataclasses.replace(TINY_SPEC, baseline='interp', magnitude='linear')
