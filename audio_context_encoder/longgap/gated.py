"""Gated convolution (Yu et al. 2018a; Chang et al. 2019 eq. 1), 1-D and 2-D, as Keras layers.

  output = sigmoid(W_g * x + b_g) * LeakyReLU(W_f * x + b_f)

The gate (0 = invalid, 1 = valid) lets a layer learn which positions carry signal, which is
why the paper uses it where a mask hides part of the input ("Gated convolutions"). Two
separate kernels, named as in eq. 1 (gating_kernel = W_g, feature_kernel = W_f), always 'same'
padding so the output keeps the input's positions (strides shrink it by ceil). The LeakyReLU
slope is not in the paper: 0.2 (INFERRED, the usual GAN / inpainting choice; docs/longgap_models.md).
"""

from typing import Sequence, Union

import keras

IntOrSeq = Union[int, Sequence[int]]


def _tuple(v: IntOrSeq, rank: int, what: str) -> tuple:
  t = (int(v),) * rank if isinstance(v, int) else tuple(int(i) for i in v)
  if len(t) != rank or min(t) < 1:
    raise ValueError(f'{what} must be a positive int or {rank} positive ints, got {v!r}')
  return t


class _GatedConv(keras.layers.Layer):
  """Eq. 1 for any rank; GatedConv1D / GatedConv2D fix it."""

  rank = None

  def __init__(self, filters: int, kernel_size: IntOrSeq, dilation_rate: IntOrSeq = 1,
               strides: IntOrSeq = 1, negative_slope: float = 0.2, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.kernel_size = _tuple(kernel_size, self.rank, 'kernel_size')
    self.dilation_rate = _tuple(dilation_rate, self.rank, 'dilation_rate')
    self.strides = _tuple(strides, self.rank, 'strides')
    if max(self.strides) > 1 and max(self.dilation_rate) > 1:
      raise ValueError('a convolution cannot have both strides > 1 and dilation_rate > 1')
    self.negative_slope = float(negative_slope)

  def build(self, input_shape):
    shape = self.kernel_size + (int(input_shape[-1]), self.filters)
    init = keras.initializers.GlorotUniform()
    self.feature_kernel = self.add_weight(name='feature_kernel', shape=shape, initializer=init)
    self.gating_kernel = self.add_weight(name='gating_kernel', shape=shape, initializer=init)
    self.feature_bias = self.add_weight(name='feature_bias', shape=(self.filters,), initializer='zeros')
    self.gating_bias = self.add_weight(name='gating_bias', shape=(self.filters,), initializer='zeros')

  def _conv(self, x, kernel, bias):
    y = keras.ops.conv(x, kernel, strides=self.strides, padding='same',
                       dilation_rate=self.dilation_rate)
    return y + bias

  def call(self, x):
    gate = keras.ops.sigmoid(self._conv(x, self.gating_kernel, self.gating_bias))
    feature = keras.ops.leaky_relu(self._conv(x, self.feature_kernel, self.feature_bias),
                                   self.negative_slope)
    return gate * feature

  def compute_output_shape(self, input_shape):
    spatial = tuple(None if n is None else -(-int(n) // s)
                    for n, s in zip(input_shape[1:-1], self.strides))
    return (input_shape[0],) + spatial + (self.filters,)

  def get_config(self):
    return {**super().get_config(), 'filters': self.filters, 'kernel_size': self.kernel_size,
            'dilation_rate': self.dilation_rate, 'strides': self.strides,
            'negative_slope': self.negative_slope}


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class GatedConv1D(_GatedConv):
  """Eq. 1 on [B, T, C] (the waveform model)."""

  rank = 1


@keras.saving.register_keras_serializable(package='audio_context_encoder')
class GatedConv2D(_GatedConv):
  """Eq. 1 on [B, H, W, C] (the spectrogram model: H = time frames, W = frequency bins)."""

  rank = 2
