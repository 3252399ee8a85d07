"""The long-gap inpainting networks of Chang et al. 2019 (Fig. 2) as functional Keras models.

Both models take (signal, mask) with mask 1 on the missing positions and share one wrapper:
  1. ZeroMasked sets the masked positions to 0 before anything else, so their original values
     never reach the network ("Definition": "The masked samples are set to be zeros");
  2. the network ('core', a nested functional model) sees [zeroed signal, mask] channels;
  3. PasteBack keeps the known positions of the input exactly ("Benchmark Procedure": "after
     inpainting, we paste the unmasked segments from input to the output").
build_wave_model: waveform [B, T] (any T) -> waveform. build_spectrogram_model: magnitude
[B, frames, bins] (frames fixed), frame mask [B, frames] -> magnitude; phase afterwards with
phase_options ('gl' as the paper, or 'pghi+fgla'). Sizes: model_config.py; docs/longgap_models.md.
"""

from typing import List, Tuple

import keras
import numpy as np

from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import phase_options
from audio_context_encoder.longgap import receptive_field
from audio_context_encoder.dsp import spectrogram
from audio_context_encoder.dsp import tf_stft
from audio_context_encoder.longgap.gated import GatedConv1D, GatedConv2D
from audio_context_encoder.longgap.model_config import SpectrogramModelConfig, WaveModelConfig

PACKAGE = 'audio_context_encoder'
DOMAIN_OUTPUT = 'domain_output'


@keras.saving.register_keras_serializable(package=PACKAGE)
class ZeroMasked(keras.layers.Layer):
  """(x, mask) -> x with 0 where mask > 0.5 (a select, so even NaN there cannot leak)."""

  def call(self, inputs):
    x, mask = inputs
    return keras.ops.where(mask > 0.5, keras.ops.zeros_like(x), x)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PasteBack(keras.layers.Layer):
  """(known, predicted, mask) -> predicted where mask > 0.5, known (bit-exact) elsewhere."""

  def call(self, inputs):
    known, predicted, mask = inputs
    mask = keras.ops.broadcast_to(mask, keras.ops.shape(known))
    return keras.ops.where(mask > 0.5, predicted, known)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskChannel(keras.layers.Layer):
  """(x [..., 1], mask broadcastable to x) -> [..., 2]: the signal and the mask as channels."""

  def call(self, inputs):
    x, mask = inputs
    return keras.ops.concatenate([x, keras.ops.broadcast_to(mask, keras.ops.shape(x))], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MagnitudeDomain(keras.layers.Layer):
  """|S| <-> the network's domain: log(|S| + floor) (inverse exp, capped at e^12) or |S| (inverse
  abs, so the output is a magnitude)."""

  def __init__(self, magnitude: str = 'log', floor: float = 1e-5, inverse: bool = False, **kwargs):
    super().__init__(**kwargs)
    self.magnitude, self.floor, self.inverse = magnitude, float(floor), bool(inverse)

  def call(self, x):
    if self.magnitude == 'linear':
      return keras.ops.abs(x) if self.inverse else x
    if self.inverse:
      return keras.ops.exp(keras.ops.minimum(x, 12.0))
    return keras.ops.log(x + self.floor)

  def get_config(self):
    return {**super().get_config(), 'magnitude': self.magnitude, 'floor': self.floor,
            'inverse': self.inverse}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FrameInterpolation(keras.layers.Layer):
  """(magnitude [B, frames, bins, 1], frame mask [B, frames, 1, 1]) -> the masked frames filled
  per bin by linear interpolation between the nearest known frame on each side (the one known
  side where the gap reaches a clip's end); known frames unchanged. One gap per clip (every
  mask of the protocols): frames between a clip's first and last masked frame are its gap.
  The baseline-start network's starting point (SpectrogramModelConfig.baseline = 'interp');
  baselines.interpolate_frames is the same in numpy."""

  def call(self, inputs):
    x, mask = inputs
    m = mask[:, :, 0, 0] > 0.5  # [B, frames]
    frames = keras.ops.shape(x)[1]
    idx = keras.ops.cast(keras.ops.arange(frames), 'int32')[None]
    first = keras.ops.min(keras.ops.where(m, idx, frames), axis=1, keepdims=True)
    last = keras.ops.max(keras.ops.where(m, idx, -1), axis=1, keepdims=True)
    before, after = first - 1, last + 1
    before_ok, after_ok = before >= 0, after <= frames - 1
    lo = keras.ops.clip(keras.ops.where(before_ok, before, after), 0, frames - 1)
    hi = keras.ops.clip(keras.ops.where(after_ok, after, before), 0, frames - 1)
    take = lambda i: keras.ops.take_along_axis(x, i[:, :, None, None], axis=1)  # [B, 1, bins, 1]
    span = keras.ops.cast(keras.ops.maximum(keras.ops.abs(after - before), 1), x.dtype)
    w = keras.ops.cast(idx - before, x.dtype) / span  # [B, frames]
    filled = (1.0 - w[:, :, None, None]) * take(lo) + w[:, :, None, None] * take(hi)
    return keras.ops.where(mask > 0.5, filled, x)


# ----- waveform model (Fig. 2 a2) -----

def wave_axis_ops(cfg: WaveModelConfig) -> List[receptive_field.AxisOp]:
  return [receptive_field.AxisOp('conv', cfg.kernel_size, d) for d in cfg.dilations]


def wave_receptive_field(cfg: WaveModelConfig) -> int:
  """Samples each output sample depends on: 1 + (kernel - 1) sum(dilations)."""
  return receptive_field.stack_width(wave_axis_ops(cfg))


def wave_core(cfg: WaveModelConfig) -> keras.Model:
  """[B, T, 2] (zeroed waveform, mask) -> [B, T, 1]: gated dilated convs, a linear 1x1."""
  x = inp = keras.Input((None, 2), name='wave_and_mask')
  for i, d in enumerate(cfg.dilations):
    x = GatedConv1D(cfg.channels, cfg.kernel_size, dilation_rate=d,
                    negative_slope=cfg.negative_slope, name=f'gated{i}_d{d}')(x)
  out = keras.layers.Conv1D(1, 1, name='to_waveform')(x)
  return keras.Model(inp, out, name='core')


def build_wave_model(cfg: WaveModelConfig) -> keras.Model:
  """(waveform [B, T], mask [B, T]) -> inpainted waveform [B, T], known samples pasted back."""
  wave = keras.Input((None,), name='waveform')
  mask = keras.Input((None,), name='mask')
  x = keras.layers.Reshape((-1, 1))(wave)
  m = keras.layers.Reshape((-1, 1))(mask)
  known = ZeroMasked(name='zero_masked')([x, m])
  predicted = wave_core(cfg)(keras.layers.Concatenate()([known, m]))
  out = PasteBack(name='paste_back')([known, predicted, m])
  return keras.Model([wave, mask], keras.layers.Reshape((-1,), name='inpainted')(out),
                     name='longgap_wave')


# ----- spectrogram model (Fig. 2 b2) -----

def spec_layers(cfg: SpectrogramModelConfig) -> List[Tuple]:
  """The network as ('gated' | 'up' | 'linear', filters, kernel, dilation, stride) rows,
  (time, frequency) pairs: Yu et al. 2018a's coarse network (model_config docstring)."""
  c, k, one = cfg.channels, tuple(cfg.kernel), (1, 1)
  rows = [('gated', c[0], tuple(cfg.first_kernel), one, one)]
  for i, s in enumerate(cfg.strides):
    rows += [('gated', c[i + 1], k, one, tuple(s)), ('gated', c[i + 1], k, one, one)]
  rows.append(('gated', c[-1], k, one, one))
  rows += [('gated', c[-1], k, tuple(d), one) for d in cfg.dilations]
  rows += [('gated', c[-1], k, one, one)] * 2
  for i in reversed(range(len(cfg.strides))):
    rows += [('up', None, None, None, tuple(cfg.strides[i])),
             ('gated', c[i], k, one, one), ('gated', c[i], k, one, one)]
  rows += [('gated', max(c[0] // 2, 1), k, one, one), ('linear', 1, k, one, one)]
  return rows


def spec_axis_ops(cfg: SpectrogramModelConfig):
  """(time ops, frequency ops) for receptive_field."""
  time, freq = [], []
  for kind, _, kernel, dilation, stride in spec_layers(cfg):
    for axis, ops in ((0, time), (1, freq)):
      if kind == 'up':
        ops.append(receptive_field.AxisOp('up', stride=stride[axis]))
      else:
        ops.append(receptive_field.AxisOp('conv', kernel[axis], dilation[axis], stride[axis]))
  return time, freq


def spec_receptive_field(cfg: SpectrogramModelConfig, frames: int = None, bins: int = None):
  """(frames, bins) each output bin depends on (on the padded input of that size; default: the
  interior value)."""
  time, freq = spec_axis_ops(cfg)
  return receptive_field.receptive_field(time, frames), receptive_field.receptive_field(freq, bins)


def padded_shape(cfg: SpectrogramModelConfig, frames: int, bins: int) -> Tuple[int, int]:
  """frames and bins rounded up to multiples of the downsampling (the core's input size)."""
  t, f = cfg.downsampling
  return -(-frames // t) * t, -(-bins // f) * f


def spec_core(cfg: SpectrogramModelConfig, frames: int, bins: int) -> keras.Model:
  """[B, frames, bins, 2] (padded sizes) -> [B, frames, bins, 1] in the magnitude domain (with
  a baseline: the correction to it, its last convolution zero so that step 0 adds nothing)."""
  x = inp = keras.Input((frames, bins, 2), name='spec_and_mask')
  last = 'zeros' if cfg.baseline else 'glorot_uniform'
  for i, (kind, filters, kernel, dilation, stride) in enumerate(spec_layers(cfg)):
    if kind == 'up':
      x = keras.layers.UpSampling2D(stride, name=f'up{i}')(x)
    elif kind == 'gated':
      x = GatedConv2D(filters, kernel, dilation_rate=dilation, strides=stride,
                      negative_slope=cfg.negative_slope, name=f'gated{i}')(x)
    else:
      x = keras.layers.Conv2D(filters, kernel, padding='same', kernel_initializer=last,
                              name='to_magnitude')(x)
  return keras.Model(inp, x, name='core')


def build_spectrogram_model(cfg: SpectrogramModelConfig, frames: int, bins: int) -> keras.Model:
  """(magnitude [B, frames, bins], frame mask [B, frames]) -> magnitude [B, frames, bins],
  known frames pasted back. Padded at the end to the downsampling grid inside, cropped after.
  The layer DOMAIN_OUTPUT holds the same in the network's domain (log or linear), for the loss.
  With cfg.baseline ('interp'; not the paper's), the network sees the gap filled by
  FrameInterpolation instead of zeros and its output is added to that baseline's log
  magnitudes: zero at initialisation, so the untrained model returns the baseline."""
  mag = keras.Input((frames, bins), name='magnitude')
  mask = keras.Input((frames,), name='frame_mask')
  x = keras.layers.Reshape((frames, bins, 1))(mag)
  m = keras.layers.Reshape((frames, 1, 1))(mask)
  known = ZeroMasked(name='zero_masked')([x, m])
  domain = MagnitudeDomain(cfg.magnitude, cfg.log_floor, name='to_domain')(known)
  domain = ZeroMasked(name='zero_masked_domain')([domain, m])
  start = domain
  if cfg.baseline:
    start = MagnitudeDomain(cfg.magnitude, cfg.log_floor, name='baseline_to_domain')(
        FrameInterpolation(name='baseline_interp')([known, m]))
  y = MaskChannel(name='mask_channel')([start, m])
  pf, pb = padded_shape(cfg, frames, bins)
  y = keras.layers.ZeroPadding2D(((0, pf - frames), (0, pb - bins)), name='pad')(y)
  y = spec_core(cfg, pf, pb)(y)
  y = keras.layers.Cropping2D(((0, pf - frames), (0, pb - bins)), name='crop')(y)
  if cfg.baseline:
    y = keras.layers.Add(name='baseline_plus_correction')([start, y])
  # the prediction in the network's domain, known frames pasted back: what training compares
  # (training.loss_view), so the loss never passes through exp and its flat tail
  y = PasteBack(name=DOMAIN_OUTPUT)([domain, y, m])
  predicted = MagnitudeDomain(cfg.magnitude, cfg.log_floor, inverse=True, name='from_domain')(y)
  out = PasteBack(name='paste_back')([known, predicted, m])
  return keras.Model([mag, mask], keras.layers.Reshape((frames, bins), name='inpainted')(out),
                     name='longgap_spec')


# ----- clips in and out -----

def spectrogram_inputs(clips, sample_mask, cfg: SpectrogramModelConfig):
  """(magnitude float32 [B, frames, bins] of the clips with the gap zeroed, frame mask float32)."""
  x = np.where(np.atleast_2d(sample_mask), 0.0, np.atleast_2d(clips))
  mag = np.abs(spectrogram.stft(x, cfg.n_fft, cfg.hop)).astype(np.float32)
  return mag, np.asarray(tf_stft.frame_mask(np.atleast_2d(sample_mask), cfg.n_fft, cfg.hop))


def inpaint_spectrogram(model, clips, sample_mask, cfg: SpectrogramModelConfig,
                        phase: str = 'gl', iterations: int = 100) -> np.ndarray:
  """Clips [B, T] with each one's single gap filled: magnitudes by the model, phase by
  phase_options, the known samples pasted back."""
  clips = np.atleast_2d(np.asarray(clips, np.float64))
  sample_mask = np.broadcast_to(np.atleast_2d(np.asarray(sample_mask, bool)), clips.shape)
  mag, fmask = spectrogram_inputs(clips, sample_mask, cfg)
  out_mag = run_model(model, [mag, fmask]).astype(np.float64)
  stft = config.MethodSTFT(n_fft=cfg.n_fft, hop=cfg.hop)
  out = np.empty_like(clips)
  for i in range(len(clips)):
    start, end = config.gap_bounds(sample_mask[i])
    out[i] = phase_options.to_waveform(clips[i], out_mag[i], start, end, phase, stft, iterations)
  return out


def inpaint_waveform(model, clips, sample_mask) -> np.ndarray:
  """Clips [B, T] inpainted by the waveform model (known samples pasted back inside it)."""
  clips = np.atleast_2d(np.asarray(clips, np.float32))
  m = np.broadcast_to(np.atleast_2d(np.asarray(sample_mask, np.float32)), clips.shape)
  return run_model(model, [clips, m])


def run_model(model, inputs, batch: int = 16) -> np.ndarray:
  """The model's output on inputs [B, ...] in batches, called directly: Keras' predict
  retraces (and warns) at every new batch count, as the tables' many small calls make."""
  return np.concatenate([np.asarray(model([x[i:i + batch] for x in inputs], training=False))
                         for i in range(0, len(inputs[0]), batch)])


def gap_reach(kind: str, cfg, protocol, seconds: float = None) -> Tuple[int, int]:
  """(receptive field along time, the least one that lets every position of a centred gap of
  `seconds` (default: the protocol's training gap) see known context on both sides: 2 x gap +
  1), in samples ('wave') or frames ('spec': the gap counted as the frames it touches)."""
  g = int(round((protocol.train_mask_seconds if seconds is None else seconds) * protocol.sample_rate))
  if kind == 'wave':
    return wave_receptive_field(cfg), 2 * g + 1
  m = np.zeros((1, protocol.clip_samples), bool)
  m[0, :g] = True
  m = np.roll(m, (protocol.clip_samples - g) // 2, axis=1)
  return spec_receptive_field(cfg)[0], 2 * int(np.sum(tf_stft.frame_mask(m, cfg.n_fft, cfg.hop))) + 1
