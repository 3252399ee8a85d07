"""Loss of eqs. (2)+(3) and the gap metrics, checked against numpy on random tensors."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder import config
from audio_context_encoder.context_encoder import losses
from audio_context_encoder.context_encoder import model as model_lib


def with_train(cfg, **changes):
  return cfg.replace(train=dataclasses.replace(cfg.train, **changes))


@pytest.fixture(scope='module')
def small_model():
  return model_lib.build_model(config.get('small'))


def random_pair(rng, b=5, channels=1):
  target = np.abs(rng.standard_normal((b, 11, 257, channels))) * rng.uniform(0.01, 3, (b, 1, 1, 1))
  prediction = target + 0.5 * rng.standard_normal(target.shape)
  return target.astype(np.float32), prediction.astype(np.float32)


def numpy_l2(variables, lam):
  return lam / 2 * sum(np.sum(np.square(v.numpy().astype(np.float64))) for v in variables)


@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_paper_loss_matches_numpy(small_model, reduction, rng):
  cfg = with_train(config.get('small'), batch_reduction=reduction)
  target, prediction = random_pair(rng)
  t, p = target.astype(np.float64), prediction.astype(np.float64)
  f = np.sum((t - p) ** 2, axis=(1, 2, 3)) / (1 / 5.0 + np.sum(t ** 2, axis=(1, 2, 3)))  # eq. (2)
  rec = f.sum() if reduction == 'sum' else f.mean()
  kernels = [layer.kernel for layer in small_model.layers if hasattr(layer, 'kernel')]
  assert len(kernels) == 6 + 1 + 5  # convolutions, FCL, deconvolutions; no biases, no BN
  l2 = numpy_l2(kernels, 0.01)  # eq. (3)
  got = losses.total_loss(target, prediction, small_model, cfg)
  assert float(got['reconstruction']) == pytest.approx(rec, rel=1e-5)
  assert float(got['l2']) == pytest.approx(l2, rel=1e-5)
  assert float(got['total']) == pytest.approx(rec + l2, rel=1e-5)


def test_authors_code_variant_matches_numpy(small_model, rng):
  cfg = with_train(config.get('small'), loss='authors_code')
  target, prediction = random_pair(rng, channels=2)
  t, p = target.astype(np.float64), prediction.astype(np.float64)
  energy = np.sum(t ** 2, axis=(1, 2, 3))
  rec = np.sum(0.5 * np.sum((t - p) ** 2, axis=(1, 2, 3)) * (1 + 5 / (energy + 1e-4)))
  l2 = numpy_l2(small_model.trainable_variables, 0.01)  # batch-norm gamma/beta included
  got = losses.total_loss(target, prediction, small_model, cfg)
  assert float(got['reconstruction']) == pytest.approx(rec, rel=1e-5)
  assert float(got['l2']) == pytest.approx(l2, rel=1e-5)
  assert len(losses.l2_variables(small_model, cfg)) > 12


def test_gradient_finite_for_all_zero_target(small_model, rng):
  cfg = config.get('small')
  context = tf.constant(rng.standard_normal((2, 16, 257, 4)), tf.float32)
  target = tf.zeros((2, 11, 257, 1))
  with tf.GradientTape() as tape:
    prediction = small_model(context, training=True)
    total = losses.total_loss(target, prediction, small_model, cfg)['total']
  grads = tape.gradient(total, small_model.trainable_variables)
  assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
  # With S = 0, eq. (2) is c ||S'||^2: its gradient in S' is 2 c S'.
  pred = tf.constant(rng.standard_normal((2, 11, 257, 1)), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(pred)
    rec = losses.reduce_batch(losses.per_example_loss(target, pred, cfg), cfg)
  np.testing.assert_allclose(tape.gradient(rec, pred).numpy(), 10 * pred.numpy(), rtol=1e-5)
  assert np.all(np.isfinite(losses.snr_db(target, pred).numpy()))


def test_nmse_and_snr(rng):
  target, _ = random_pair(rng)
  prediction = 0.9 * target  # error energy = 1 % of the target's: NMSE 0.01, SNR 20 dB
  np.testing.assert_allclose(losses.nmse(target, prediction).numpy(), 0.01, rtol=1e-4)
  np.testing.assert_allclose(losses.snr_db(target, prediction).numpy(), 20.0, rtol=1e-4)
  t, p = random_pair(rng)
  expected = np.sum((t - p) ** 2, axis=(1, 2, 3)) / np.sum(t ** 2, axis=(1, 2, 3))
  np.testing.assert_allclose(losses.nmse(t, p).numpy(), expected, rtol=1e-5)
  # A [B, 11, 257] prediction for a [B, 11, 257, 1] target is the same thing.
  np.testing.assert_allclose(losses.nmse(t, p[..., 0]).numpy(), expected, rtol=1e-5)


def test_bad_choices():
  cfg = with_train(config.get('small'), loss='mse')
  with pytest.raises(ValueError, match='train.loss must be one of'):
    losses.per_example_loss(np.ones((1, 11, 257, 1)), np.ones((1, 11, 257, 1)), cfg)
  cfg = with_train(config.get('small'), batch_reduction='max')
  with pytest.raises(ValueError, match='batch_reduction must be one of'):
    losses.reduce_batch(tf.ones(3), cfg)
