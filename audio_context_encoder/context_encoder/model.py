"""The context encoder (paper §2.2-2.3, Figs. 1-2) as a functional Keras model.

Encoder: six SAME-padded convolutions -> row-major reshape to the encoding.
Decoder: fully connected layer -> reshape -> five transposed convolutions, with
the row-major reshapes after deconv 3 and deconv 4 exactly as the authors' code
(docs/reference.md, "Network"). No biases; every layer but the last is followed by ReLU
then batch normalisation; the last one is linear. All widths come from
cfg.network, so the `small` preset is this same code with smaller widths.

The .keras file written by `save_model` also carries the Config (as JSON), so
`load_model` gives back both.
"""

import dataclasses
import json
import os
import zipfile
from typing import List, Tuple

import keras
import numpy as np

from audio_context_encoder.common import atomic
from audio_context_encoder.context_encoder import features
from audio_context_encoder.config import RESIDUALS, Config, SignalConfig

CONFIG_ENTRY = 'audio_context_encoder_config.json'


def _several_replicas() -> bool:
  """Whether the model is being built for a tf.distribute strategy of more than one replica."""
  import tensorflow as tf  # the model is built in a TensorFlow program already
  return tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1


def _relu_bn(x, name: str, cfg: Config):
  # Built for several replicas (docs/scaling.md), batch statistics are over the whole global
  # batch, as on one device: the same training as the paper's single-device one.
  x = keras.layers.ReLU(name=f'{name}_relu')(x)
  return keras.layers.BatchNormalization(epsilon=cfg.network.batch_norm_epsilon,
                                         momentum=cfg.network.batch_norm_momentum,
                                         synchronized=_several_replicas(), name=f'{name}_bn')(x)


class _SignalLayer(keras.layers.Layer):
  """A float32 layer built from the SignalConfig it carries (as a dict, for get_config)."""

  def __init__(self, signal: dict = None, **kwargs):
    kwargs.setdefault('dtype', 'float32')
    super().__init__(**kwargs)
    self.signal = dict(signal or {})
    self._sig = SignalConfig(**self.signal)

  def get_config(self):
    return {**super().get_config(), 'signal': self.signal}


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class InterpolatedGap(_SignalLayer):
  """Context features -> [B, gap_frames, bins, 1] interpolated magnitudes (the residual base)."""

  def __init__(self, signal: dict = None, **kwargs):
    kwargs['trainable'] = False  # no weights: a fixed function of the context
    super().__init__(signal, **kwargs)

  def call(self, context):
    return features.interpolated_gap_magnitude(context, self._sig)[..., None]


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class ContextMagnitudes(keras.layers.Layer):
  """[..., 4] Re/Im of S_b, S_a -> [..., 6]: the same channels, then |S_b| and |S_a|."""

  def call(self, context):
    before = keras.ops.sqrt(context[..., 0] ** 2 + context[..., 1] ** 2)
    after = keras.ops.sqrt(context[..., 2] ** 2 + context[..., 3] ** 2)
    return keras.ops.concatenate([context, before[..., None], after[..., None]], axis=-1)


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class BlendedGap(_SignalLayer):
  """Context features -> [B, gap_frames, bins, 1]: per bin, learnt weights on the clean frames.

  The weights [bins, 2 n, gap_frames] start at the interpolation's, so before training the
  output equals InterpolatedGap's. They are not a `kernel`: the paper's L2 term (eq. 3), which
  would pull them towards zero rather than towards the interpolation, leaves them alone.
  """

  def build(self, input_shape):
    start = features.interpolation_matrix(self._sig)
    start = np.broadcast_to(start, (self._sig.bins,) + start.shape)
    self.blend = self.add_weight(name='blend', shape=start.shape,
                                 initializer=keras.initializers.Constant(self._blend_start(start)))

  def _blend_start(self, interpolation: np.ndarray) -> np.ndarray:
    return interpolation

  def _blended(self, context):
    magnitudes = features.clean_context_magnitudes(context, self._sig)  # [B, 2n, bins]
    return keras.ops.einsum('bfk,kfj->bjk', magnitudes, self.blend)

  def call(self, context):
    return self._blended(context)[..., None]


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class LPCBlendedGap(BlendedGap):
  """(context features, LPC gap magnitudes [B, gap_frames, bins]) -> [B, gap_frames, bins, 1]:
  per bin and gap frame, a learnt weight on LPC's magnitude plus BlendedGap's blend.

  The LPC weights start at 1 and the blend at 0, so before training the output is LPC's gap
  magnitudes exactly. Like the blend, the LPC weights are outside the paper's L2 term.
  """

  def build(self, input_shape):
    super().build(input_shape[0])
    self.lpc = self.add_weight(name='lpc', shape=(self._sig.bins, self._sig.gap_frames),
                               initializer='ones')

  def _blend_start(self, interpolation):
    return np.zeros_like(interpolation)

  def call(self, inputs):
    context, lpc_magnitudes = inputs
    lpc = lpc_magnitudes * keras.ops.transpose(self.lpc)  # [B, gap_frames, bins]
    return (self._blended(context) + lpc)[..., None]


def output_shape(cfg: Config) -> Tuple[int, int, int]:
  """(gap frames, bins, channels) of the network output: 11 x 257 x 1 (magnitude) or x 2."""
  return (cfg.signal.gap_frames, cfg.signal.bins, 2 if cfg.network.output == 'complex' else 1)


def build_model(cfg: Config) -> keras.Model:
  """Input [B, 16, 257, 4] context features -> output [B, 11, 257, C] gap coefficients.

  With NetworkConfig.residual = 'lpc' the input is the pair (context features, LPC gap
  magnitudes [B, 11, 257]) that network_inputs.network_inputs computes.

  Uses the global Keras dtype policy (mixed precision); the output is always float32.
  """
  net, sig = cfg.network, cfg.signal
  channels = output_shape(cfg)[-1]
  if net.decoder_channels[-1] != channels:
    raise ValueError(f'network.decoder_channels[-1] = {net.decoder_channels[-1]} does not match '
                     f'output {net.output!r} ({channels} channel(s))')
  if (sig.Lg, sig.Lc) != (1024, 2048):
    raise ValueError(f'the network is built for the 64 ms gap (Lg = 1024, Lc = 2048), got Lg = '
                     f'{sig.Lg}: the decoder geometry is fixed to the 64 ms gap, as in the paper '
                     '(48 ms gaps are filled by the 64 ms network, Table 3)')
  context = keras.Input((sig.context_frames, sig.bins, 4), name='context')
  inputs = context
  if net.residual == 'lpc':  # network_inputs.network_inputs gives the pair
    inputs = [context, keras.Input((sig.gap_frames, sig.bins), name='lpc_gap')]
  x = ContextMagnitudes(name='context_magnitudes')(context) if net.context_magnitudes else context
  for i, (k, s, c) in enumerate(zip(net.encoder_kernels, net.encoder_strides, net.encoder_channels)):
    x = keras.layers.Conv2D(c, k, strides=s, padding='same', use_bias=False, name=f'conv{i + 1}')(x)
    x = _relu_bn(x, f'conv{i + 1}', cfg)
  encoded = 1
  for d in x.shape[1:]:
    encoded *= d
  if encoded != net.encoding_size:
    raise ValueError(f'the encoder output {tuple(x.shape[1:])} has {encoded} values, '
                     f'not network.encoding_size = {net.encoding_size}')
  x = keras.layers.Reshape((encoded,), name='encoding')(x)
  x = keras.layers.Dense(net.encoding_size, use_bias=False, name='fcl')(x)
  x = _relu_bn(x, 'fcl', cfg)
  x = keras.layers.Reshape(net.fcl_reshape, name='fcl_reshape')(x)
  n = len(net.decoder_channels)
  reshapes = {2: net.decoder_reshapes[0], 3: net.decoder_reshapes[1]}
  residual = _residual(cfg)
  for i, (k, s, c) in enumerate(zip(net.decoder_kernels, net.decoder_strides, net.decoder_channels)):
    name = f'deconv{i + 1}'
    last = i == n - 1
    init = 'zeros' if (last and residual) else 'glorot_uniform'
    x = keras.layers.Conv2DTranspose(c, k, strides=s, padding='same', use_bias=False,
                                     kernel_initializer=init, name=name)(x)
    if not last:
      x = _relu_bn(x, name, cfg)
    if i in reshapes:
      x = keras.layers.Reshape(reshapes[i], name=f'{name}_reshape')(x)
  # Float32 output even under a mixed-precision policy: the loss is computed in float32.
  if residual:
    x = keras.layers.Activation('linear', dtype='float32', name='correction')(x)
    if net.residual == 'lpc':
      base = LPCBlendedGap(dataclasses.asdict(sig), name='lpc_base')(inputs)
    else:
      base_layer = BlendedGap if net.residual == 'blend' else InterpolatedGap
      base = base_layer(dataclasses.asdict(sig), name='interpolation')(context)
    outputs = keras.layers.Add(dtype='float32', name='gap')([base, x])
  else:
    outputs = keras.layers.Activation('linear', dtype='float32', name='gap')(x)
  if tuple(outputs.shape[1:]) != output_shape(cfg):
    raise ValueError(f'network output {tuple(outputs.shape[1:])} does not match the gap target '
                     f'{output_shape(cfg)} of this signal layout (the decoder geometry is fixed '
                     'to the 64 ms gap, as in the paper)')
  return keras.Model(inputs, outputs, name=f'context_encoder_{cfg.name}_{net.output}')


def _residual(cfg: Config) -> bool:
  """True for the residual deviations (NetworkConfig.residual = 'interp', 'blend' or 'lpc')."""
  if cfg.network.residual not in RESIDUALS:
    raise ValueError(f'network.residual must be one of {RESIDUALS}, got {cfg.network.residual!r}')
  if cfg.network.residual != 'none' and cfg.network.output != 'magnitude':
    raise ValueError(f'network.residual = {cfg.network.residual!r} adds a base of magnitudes: '
                     'it needs the magnitude network')
  return cfg.network.residual != 'none'


def kernels(model: keras.Model) -> List:
  """The weights the paper's L2 term (eq. 3) covers: every convolution / dense kernel."""
  return [v for layer in model.layers if hasattr(layer, 'kernel') for v in [layer.kernel]]


def layer_shapes(model: keras.Model) -> List[Tuple[str, Tuple[int, ...]]]:
  """(layer name, output shape without batch) for every layer, in order."""
  return [(layer.name, tuple(layer.output.shape[1:])) for layer in model.layers]


def save_model(model: keras.Model, cfg: Config, path: str) -> None:
  """Writes `path` (.keras) with the Config inside; temp file then rename, so never half-written."""
  path = os.fspath(path)
  if not path.endswith('.keras'):
    raise ValueError(f'{path}: model files must end in .keras')
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with atomic.replacing(path) as tmp:
    model.save(tmp)
    with zipfile.ZipFile(tmp, 'a') as z:
      z.writestr(CONFIG_ENTRY, json.dumps(cfg.to_dict(), indent=1))


def load_model(path: str):
  """(model, cfg) from a file written by `save_model`."""
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{path}: no such model file')
  try:
    with zipfile.ZipFile(path) as z:
      cfg = Config.from_dict(json.loads(z.read(CONFIG_ENTRY)))
  except (zipfile.BadZipFile, KeyError) as e:
    raise ValueError(f'{path}: not a model file written by save_model ({e})') from None
  return keras.models.load_model(path, compile=False), cfg
