"""Gap coefficients predicted by a trained network for whole segments (paper §2.3)."""

import weakref

import numpy as np
import tensorflow as tf

from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import network_inputs
from audio_context_encoder.config import Config


_PREDICTORS = weakref.WeakKeyDictionary()


def _predictor(model, cfg: Config):
  """One traced tf.function per model, reused across calls (a gap at a time in the CLI)."""
  if model not in _PREDICTORS:
    _PREDICTORS[model] = tf.function(
        lambda batch: model(network_inputs.network_inputs(batch, cfg), training=False),
        reduce_retracing=True)
  return _PREDICTORS[model]


def predict_gap(model, cfg: Config, segments, batch_size: int = 64) -> np.ndarray:
  """Segments [B, 5120] -> gap coefficients [B, 11, 257].

  Magnitudes (float32) for the magnitude network, complex64 (Re + i Im) for the complex one.
  Runs in inference mode (batch-norm moving statistics).
  """
  x = features.check_segments(segments, cfg.signal)
  if x.shape.rank != 2:
    raise ValueError(f'segments must have shape [batch, {cfg.signal.L}], got {x.shape}')
  if batch_size < 1:
    raise ValueError(f'batch_size must be positive, got {batch_size}')

  run = _predictor(model, cfg)
  out = [run(x[i:i + batch_size]).numpy() for i in range(0, int(x.shape[0]), batch_size)]
  if not out:
    shape = (0, cfg.signal.gap_frames, cfg.signal.bins)
    return np.zeros(shape, np.complex64 if cfg.network.output == 'complex' else np.float32)
  y = np.concatenate(out, axis=0)
  if cfg.network.output == 'complex':
    return (y[..., 0] + 1j * y[..., 1]).astype(np.complex64)
  return y[..., 0]
