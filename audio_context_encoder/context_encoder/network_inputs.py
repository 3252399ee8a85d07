"""What the network reads for a batch of segments (the model's input, computed in TF ops).

The paper's network reads the context features (§2.1, features.context_features). The residual
deviation NetworkConfig.residual = 'lpc' also reads the magnitudes of the gap as the LPC
baseline (§3.5) fills it, so the same function serves the tf.data pipeline (reader) and
inference, and neither can feed the model something the other does not.
"""

import numpy as np
import tensorflow as tf

from audio_context_encoder.context_encoder import features
from audio_context_encoder.dsp import lpc
from audio_context_encoder.config import Config, SignalConfig


def lpc_gap_magnitude(segments, sig: SignalConfig, order: int = 1000) -> tf.Tensor:
  """[..., gap_frames, bins]: the gap magnitudes (features.gap_magnitude) of the segment with
  its gap filled by LPC (lpc.lpc_inpaint, which reads the context only). A tf.numpy_function
  (numpy on the calling thread, no worker processes), so it runs inside tf.data as well."""
  x = features.check_segments(segments, sig)

  def fill(batch):
    restored, _ = lpc.lpc_inpaint(batch.astype(np.float64), sig, order, backend='numpy', workers=1)
    return restored.astype(np.float32)

  filled = tf.numpy_function(fill, [x], tf.float32, stateful=False)
  filled.set_shape(x.shape)
  return features.gap_magnitude(filled, sig)


def network_inputs(segments, cfg: Config):
  """Context features [..., 16, 257, 4]; with NetworkConfig.residual = 'lpc' the pair
  (context features, LPC gap magnitudes [..., 11, 257])."""
  context = features.context_features(segments, cfg.signal)
  if cfg.network.residual != 'lpc':
    return context
  return context, lpc_gap_magnitude(segments, cfg.signal, cfg.reconstruction.lpc_order)
