"""Long-gap training step: its TF spectrogram and frame mask equal the numpy ones, and a tiny
model of each kind overfits two clips (the issue's overfit acceptance test)."""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder.longgap import metrics
from audio_context_encoder.longgap import model_config
from audio_context_encoder.longgap import models
from audio_context_encoder.dsp import spectrogram
from audio_context_encoder.dsp import tf_stft
from audio_context_encoder.longgap import training

TINY_WAVE = model_config.WaveModelConfig(channels=16, kernel_size=3, dilations=(1, 2, 4, 8, 16, 32))
TINY_SPEC = model_config.SpectrogramModelConfig(
    channels=(8, 12, 16), first_kernel=(3, 3), strides=((1, 2), (2, 2)),
    dilations=((2, 1), (4, 1)), n_fft=64, hop=16)


def two_clips(length=512):
  """Two clips of harmonic tones (a learnable, not memorisable-by-chance gap content)."""
  t = np.arange(length) / 8000
  a = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 880 * t + 1)
  b = 0.4 * np.sin(2 * np.pi * 300 * t + 0.5) + 0.3 * np.sin(2 * np.pi * 1200 * t)
  return np.stack([a, b]).astype(np.float32)


def gap_mask(length, start, end, batch=2):
  m = np.zeros((batch, length), np.float32)
  m[:, start:end] = 1
  return m


def test_tf_magnitude_and_frame_mask_equal_the_numpy_layout(rng):
  x = rng.normal(size=(2, 700)).astype(np.float32)
  np.testing.assert_allclose(np.asarray(tf_stft.magnitude(x, 64, 16)),
                             np.abs(spectrogram.stft(x, 64, 16)), rtol=1e-4, atol=1e-4)
  m = gap_mask(700, 300, 420) > 0
  k = np.arange(1 + 700 // 16)
  touching = (k * 16 - 32 < 420) & (k * 16 + 32 > 300)  # frame k covers [16 k - 32, 16 k + 32)
  np.testing.assert_array_equal(np.asarray(tf_stft.frame_mask(m, 64, 16)) > 0,
                                np.broadcast_to(touching, (2, len(k))))


def test_model_io_hides_the_gap_from_the_spectrogram_input(rng):
  x = rng.normal(size=(1, 640)).astype(np.float32)
  m = gap_mask(640, 300, 400, batch=1)
  (mag, fmask), target, loss_mask = training.model_io('spec', x, m, TINY_SPEC)
  x2 = x.copy()
  x2[:, 300:400] = 9.0
  mag2 = training.model_io('spec', x2, m, TINY_SPEC)[0][0]
  np.testing.assert_array_equal(np.asarray(mag), np.asarray(mag2))
  assert loss_mask.shape == (1, 41, 1) and float(np.sum(fmask)) == 10  # frames 17..26 touch [300, 400)


def make_step(kind, model, optimizer, spec_cfg=None):
  """Plain gradient steps on the long-gap loss (training.compute_loss), as the long-gap task
  hands it to the training loop."""
  view = training.loss_view(kind, model)

  @tf.function
  def step(clips, sample_mask):
    with tf.GradientTape() as tape:
      parts = training.compute_loss(kind, view, clips, sample_mask, spec_cfg, training=True)
    grads = tape.gradient(parts['total'], model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return parts

  return step


def fit(kind, model, clips, mask, steps, lr, spec_cfg=None):
  keras.utils.set_random_seed(0)
  step = make_step(kind, model, keras.optimizers.Adam(lr), spec_cfg)
  first = float(step(clips, mask)['masked_l1'])
  for _ in range(steps - 1):
    last = float(step(clips, mask)['masked_l1'])
  return first, last


@pytest.mark.slow
def test_tiny_wave_model_overfits_two_clips():
  keras.utils.set_random_seed(0)
  clips, mask = two_clips(), gap_mask(512, 224, 288)  # a 64-sample gap, receptive field 127
  model = models.build_wave_model(TINY_WAVE)
  t0 = time.time()
  fit('wave', model, clips, mask, 400, 3e-3)
  out = models.inpaint_waveform(model, clips, mask)
  ml1 = metrics.masked_l1(out, clips, mask > 0)
  zeros = metrics.masked_l1(clips * (1 - mask), clips, mask > 0)
  print(f'wave overfit: ML1 {ml1} vs masked input {zeros} in {time.time() - t0:.1f} s')
  assert np.all(ml1 < 0.1 * zeros)
  np.testing.assert_array_equal(out[:, :224], clips[:, :224])


@pytest.mark.slow
def test_tiny_spectrogram_model_overfits_two_clips():
  keras.utils.set_random_seed(0)
  clips, mask = two_clips(1024), gap_mask(1024, 448, 576)
  (mag, fmask), target, loss_mask = training.model_io('spec', clips, mask, TINY_SPEC)
  model = models.build_spectrogram_model(TINY_SPEC, *mag.shape[1:])
  t0 = time.time()
  fit('spec', model, clips, mask, 300, 3e-3, TINY_SPEC)
  out = np.asarray(model([mag, fmask]))
  log_err = lambda m: metrics.masked_l1(np.log(m + 1e-5).reshape(2, -1),
                                        np.log(np.asarray(target) + 1e-5).reshape(2, -1),
                                        np.broadcast_to(np.asarray(loss_mask) > 0, m.shape).reshape(2, -1))
  print(f'spec overfit: log-ML1 {log_err(out)} vs masked input {log_err(np.asarray(mag))} '
        f'in {time.time() - t0:.1f} s')
  assert np.all(log_err(out) < 0.25 * log_err(np.asarray(mag)))  # seeds 0-2: 0.05-0.15
  # and through Griffin-Lim back to clips: bit-exact outside the gap, and the gap's spectrum
  # (frames wholly inside it) closer than silence's (seed 0: 0.06 and 0.64 of it; 30 Griffin-Lim
  # iterations). Not its waveform L1: the phase is retrieved, not learnt, so sample-wise errors
  # may exceed silence's.
  wave = models.inpaint_spectrogram(model, clips, mask > 0, TINY_SPEC, iterations=30)
  np.testing.assert_array_equal(wave[:, :448], clips[:, :448].astype(np.float64))
  inside = lambda x: np.abs(spectrogram.stft(x[:, 448:576], 64, 16, center=False))
  err = np.abs(inside(wave) - inside(clips)).mean(axis=(1, 2))
  print(f'spec overfit after Griffin-Lim: gap spectrum L1 {err} vs silence {inside(clips).mean(axis=(1, 2))}')
  assert np.all(err < 0.9 * inside(clips).mean(axis=(1, 2)))


def test_spectrogram_loss_keeps_its_gradient_when_the_prediction_is_far_below_the_floor(rng):
  """The loss is taken on the network's log-domain output, not on log(exp(.)): a model whose
  predictions fell to -200 (exp underflows to 0) still gets a gradient back (a model died on
  the SC09 stand-in that way before)."""
  clips = rng.normal(size=(2, 640)).astype(np.float32) * 0.1
  m = gap_mask(640, 300, 400)
  (mag, fmask), _, _ = training.model_io('spec', clips, m, TINY_SPEC)
  model = models.build_spectrogram_model(TINY_SPEC, *mag.shape[1:])
  last = model.get_layer('core').get_layer('to_magnitude')
  last.bias.assign([-200.0])
  assert np.all(np.asarray(model([mag, fmask]))[np.asarray(fmask) > 0] == 0)  # exp underflowed
  view = training.loss_view('spec', model)
  with tf.GradientTape() as tape:
    loss = training.compute_loss('spec', view, clips, m, TINY_SPEC)['masked_l1']
  assert float(loss) > 20 and abs(float(tape.gradient(loss, last.bias)[0])) > 0.01
