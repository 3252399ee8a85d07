"""The classifiers behind the perceptual distance (Chang et al. 2019, eq. 3 and Table 1).

The paper takes Psi from big nets: SoundNet on waveforms, VGG16 / ResNet50 on spectrograms,
pretrained (ImageNet, SoundNet's video data) or from scratch. We cannot download those weights,
so these are two small nets trained from scratch on the inpainting data itself (the paper's
"not pretrained" rows, far smaller):
  waveform_classifier     clips [B, T] -> strided 1-D convolutions -> Dense (features) -> softmax
  spectrogram_classifier  log |STFT| [B, frames, bins] -> 2-D convolutions -> Dense -> softmax
The features layer is the input of the last Dense layer, so losses.penultimate gives Psi.
`weights` loads external weights (same architecture) from a path, e.g. converted pretrained ones.
"""

import dataclasses
from typing import Optional, Tuple

import keras
import tensorflow as tf

from audio_context_encoder.dsp import tf_stft


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
  """Sizes of both nets (small: they train in minutes on two CPU cores)."""

  wave_filters: Tuple[int, ...] = (16, 32, 64, 64)
  wave_kernel: int = 9
  wave_stride: int = 4
  spec_filters: Tuple[int, ...] = (16, 32, 64)
  features: int = 64  # width of the penultimate Dense layer (N_Psi of eq. 3)
  # The classifier's own STFT: smaller than config.METRIC_STFT (2048 x 200) to stay cheap.
  n_fft: int = 512
  hop: int = 200
  log_floor: float = 1e-3
  dropout: float = 0.2
  # Each clip's input scaled to zero mean, unit variance (a gain-free log spectrogram): the
  # stand-in's test voices are ~2x louder than its train voices.
  normalize: bool = True


DEFAULT = ClassifierConfig()
TINY = ClassifierConfig(wave_filters=(8, 16), spec_filters=(8, 16), features=16, n_fft=128, hop=64)


def _normalized(x, cfg: ClassifierConfig):
  if not cfg.normalize:
    return x
  axes = tuple(range(1, len(x.shape)))
  return keras.layers.LayerNormalization(axes, epsilon=1e-6, center=False, scale=False,
                                         name='clip_norm')(x)


def _head(x, n_classes: int, cfg: ClassifierConfig, name: str, inputs, weights: Optional[str]):
  x = keras.layers.Dense(cfg.features, activation='relu', name='features')(x)
  x = keras.layers.Dropout(cfg.dropout)(x)
  out = keras.layers.Dense(n_classes, activation='softmax', name='logits')(x)
  model = keras.Model(inputs, out, name=name)
  if weights:
    model.load_weights(weights)
  return model


def waveform_classifier(clip_samples: int, n_classes: int, cfg: ClassifierConfig = DEFAULT,
                        weights: Optional[str] = None) -> keras.Model:
  """Clips [B, clip_samples] -> class probabilities [B, n_classes]."""
  inputs = keras.Input((clip_samples,), name='waveform')
  x = _normalized(keras.layers.Reshape((clip_samples, 1))(inputs), cfg)
  for f in cfg.wave_filters:
    x = keras.layers.Conv1D(f, cfg.wave_kernel, strides=cfg.wave_stride, padding='same')(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
  x = keras.layers.GlobalMaxPooling1D()(x)
  return _head(x, n_classes, cfg, 'waveform_classifier', inputs, weights)


def spectrogram_shape(clip_samples: int, cfg: ClassifierConfig = DEFAULT) -> Tuple[int, int]:
  """(frames, bins) of tf_stft.magnitude (centred) for one clip."""
  return clip_samples // cfg.hop + 1, cfg.n_fft // 2 + 1


def log_spectrogram(clips, cfg: ClassifierConfig = DEFAULT) -> tf.Tensor:
  """Waveforms [B, T] -> log(|STFT| + floor) [B, frames, bins], the spectrogram net's input."""
  return tf.math.log(tf_stft.magnitude(clips, cfg.n_fft, cfg.hop) + cfg.log_floor)


def spectrogram_classifier(clip_samples: int, n_classes: int, cfg: ClassifierConfig = DEFAULT,
                           weights: Optional[str] = None) -> keras.Model:
  """log |STFT| [B, frames, bins] (log_spectrogram) -> class probabilities [B, n_classes]."""
  inputs = keras.Input(spectrogram_shape(clip_samples, cfg), name='log_spectrogram')
  x = _normalized(keras.layers.Reshape(spectrogram_shape(clip_samples, cfg) + (1,))(inputs), cfg)
  for f in cfg.spec_filters:
    x = keras.layers.Conv2D(f, 3, padding='same')(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D(2)(x)
  x = keras.layers.GlobalMaxPooling2D()(x)
  return _head(x, n_classes, cfg, 'spectrogram_classifier', inputs, weights)
