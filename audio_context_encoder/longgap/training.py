"""The loss of either long-gap network, from clips and sample masks (TensorFlow): what the long-gap
task (longgap/trainer.py) hands the one training loop. The clips are whole 1 s / 5 s arrays with
a random mask per clip (config.Protocol.random_train_mask). The loss is eq. 2 (masked L1), plus
eq. 3 when a feature extractor is given (it sees what eq. 2 compares):
  wave  on the waveform (the paper: between Fig. 2's a3 and c1);
  spec  on the magnitude in the network's domain (log or linear, model_config), over the frames
        that touch the gap: Griffin-Lim is not differentiable, so the waveform L1 of Fig. 2 cannot
        train this model (INFERRED; docs/longgap_models.md).
"""

import keras
import tensorflow as tf

from audio_context_encoder.longgap import losses
from audio_context_encoder.longgap import models
from audio_context_encoder.dsp import tf_stft
from audio_context_encoder.longgap.model_config import SpectrogramModelConfig


def to_domain(magnitude, cfg: SpectrogramModelConfig) -> tf.Tensor:
  return tf.math.log(magnitude + cfg.log_floor) if cfg.magnitude == 'log' else magnitude


def model_io(kind: str, clips, sample_mask, spec_cfg: SpectrogramModelConfig = None):
  """(inputs, target, loss mask) of model kind 'wave' or 'spec' for clean clips [B, T]."""
  clips = tf.cast(clips, tf.float32)
  mask = tf.cast(sample_mask, tf.float32)
  if kind == 'wave':
    return [clips, mask], clips, mask
  masked = clips * (1.0 - mask)
  fmask = tf_stft.frame_mask(mask, spec_cfg.n_fft, spec_cfg.hop)
  target = tf_stft.magnitude(clips, spec_cfg.n_fft, spec_cfg.hop)
  return [tf_stft.magnitude(masked, spec_cfg.n_fft, spec_cfg.hop), fmask], target, fmask[:, :, None]


def loss_view(kind: str, model: keras.Model) -> keras.Model:
  """The model whose output the loss compares: the waveform model itself; for the spectrogram
  model its prediction in the network's domain (models.DOMAIN_OUTPUT). A loss on exp(prediction)
  taken back to log would have no gradient once exp underflows (a model can die there)."""
  if kind == 'wave':
    return model
  return keras.Model(model.inputs, model.get_layer(models.DOMAIN_OUTPUT).output)


def compute_loss(kind, view, clips, sample_mask, spec_cfg=None, features=None,
                 perceptual_weight: float = 0.0, training: bool = False) -> dict:
  """Eq. 2 (+ eq. 3) per batch; `view` is loss_view(kind, model)."""
  inputs, target, mask = model_io(kind, clips, sample_mask, spec_cfg)
  output = view(inputs, training=training)
  if kind == 'spec':
    output, target = output[..., 0], to_domain(target, spec_cfg)
  return losses.total_loss(output, target, mask, features, perceptual_weight)
