"""Training loss (paper §2.5, eqs. 2-3) and the gap metrics NMSE / SNR.

Per example, with S the true and S' the predicted gap coefficients:
  'paper'         F = ||S - S'||^2 / (1/c + ||S||^2)                  (eq. 2, c = 5)
                  L2 = lambda/2 * sum of squared kernels               (eq. 3)
  'authors_code'  F = 0.5 ||S - S'||^2 (1 + 5 / (||S||^2 + 1e-4))
                  L2 = lambda/2 * sum of squares of ALL trainable variables (incl. BN gamma/beta)
Per-example F values are combined over the batch by cfg.train.batch_reduction:
'sum' (the authors' code, default) or 'mean'. The L2 term is added once per step.
"""

from typing import Dict, Sequence

import tensorflow as tf

from audio_context_encoder.config import LOSSES, REDUCTIONS, Config


def _energy(x: tf.Tensor) -> tf.Tensor:
  """Per-example sum of squares over every axis but the first."""
  return tf.reduce_sum(tf.reshape(tf.square(x), [tf.shape(x)[0], -1]), axis=1)


def per_example_loss(target, prediction, cfg: Config) -> tf.Tensor:
  """F of eq. (2) (or the authors' coded variant) for each example: [B]."""
  target = tf.cast(target, tf.float32)
  prediction = tf.cast(tf.reshape(prediction, tf.shape(target)), tf.float32)
  err = _energy(target - prediction)
  ref = _energy(target)
  if cfg.train.loss == 'paper':
    return err / (1.0 / cfg.train.c + ref)
  if cfg.train.loss == 'authors_code':
    return 0.5 * err * (1.0 + 5.0 / (ref + 1e-4))
  raise ValueError(f'train.loss must be one of {LOSSES}, got {cfg.train.loss!r}')


def l2_variables(model, cfg: Config) -> list:
  """Weights covered by the L2 term: kernels (paper) or all trainable variables (authors' code)."""
  if cfg.train.loss == 'authors_code':
    return list(model.trainable_variables)
  return [layer.kernel for layer in model.layers if hasattr(layer, 'kernel')]


def l2_term(variables: Sequence[tf.Variable], cfg: Config) -> tf.Tensor:
  """lambda/2 * sum_i w_i^2 (eq. 3)."""
  if not variables:
    return tf.constant(0.0)
  return 0.5 * cfg.train.lambda_ * tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32)))
                                             for v in variables])


def reduce_batch(per_example: tf.Tensor, cfg: Config, global_batch_size=None) -> tf.Tensor:
  """Sums (authors) or averages per-example losses; `global_batch_size` for per-replica shards."""
  if cfg.train.batch_reduction == 'sum':
    return tf.reduce_sum(per_example)
  if cfg.train.batch_reduction == 'mean':
    n = global_batch_size if global_batch_size else tf.cast(tf.shape(per_example)[0], tf.float32)
    return tf.reduce_sum(per_example) / tf.cast(n, tf.float32)
  raise ValueError(f'train.batch_reduction must be one of {REDUCTIONS}, '
                   f'got {cfg.train.batch_reduction!r}')


def total_loss(target, prediction, model, cfg: Config) -> Dict[str, tf.Tensor]:
  """{'total', 'reconstruction', 'l2'} of eq. (3) for one (whole) batch."""
  rec = reduce_batch(per_example_loss(target, prediction, cfg), cfg)
  l2 = l2_term(l2_variables(model, cfg), cfg)
  return {'total': rec + l2, 'reconstruction': rec, 'l2': l2}


def nmse(target, prediction) -> tf.Tensor:
  """Per-example ||S - S'||^2 / ||S||^2 on the gap coefficients: [B]."""
  target = tf.cast(target, tf.float32)
  prediction = tf.cast(tf.reshape(prediction, tf.shape(target)), tf.float32)
  return _energy(target - prediction) / tf.maximum(_energy(target), 1e-20)


def snr_db(target, prediction) -> tf.Tensor:
  """Per-example SNR in dB on the gap coefficients, -10 log10(NMSE): [B]."""
  return -10.0 * tf.math.log(tf.maximum(nmse(target, prediction), 1e-20)) / tf.math.log(10.0)
