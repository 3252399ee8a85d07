"""Deep Prior baseline (Ulyanov, Vedaldi, Lempitsky 2018; Chang et al. 2019 "Baseline
Implementation Details"): an untrained conv net fitted per clip to the known spectrogram.

The image: the clip's method-STFT magnitude (Hann 512, hop 128) in dB relative to its
maximum, clipped at -80 dB and mapped to [0, 1] (metrics.db_image), [bins, frames]. A U-Net
(`depth` stride-2 stages, `channels` wide, LeakyReLU, sigmoid output; the DIP inpainting
script's "skip" network narrowed from 128 channels so a clip fits in CPU minutes) maps fixed
noise to the image; Adam (lr 0.01) minimises the squared error on the frames that do not
touch the gap, `iterations` steps (paper: 4001). The output's gap frames give the magnitudes,
then a phase option (phase_options: 'gl' as the paper, 'pghi+fgla'). `fit_seconds` and
`seconds_per_clip` record the measured times (fit alone; fit + phase).
"""

import time

import numpy as np

from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import metrics
from audio_context_encoder.longgap import phase_options
from audio_context_encoder.dsp import spectrogram
from audio_context_encoder.longgap.baselines import check

_DB = 80.0


def _net(height, width, channels, noise_channels, depth, seed):
  """A U-Net ("skip" network of the DIP script, narrower): `depth` stride-2 stages down,
  bilinear upsampling back, 4-channel skips; the deep stages give the receptive field the
  wide gap needs."""
  import tensorflow as tf
  init = tf.keras.initializers.GlorotUniform(seed=seed)
  def conv(x, c, stride=1, k=3):
    x = tf.keras.layers.Conv2D(c, k, stride, padding='same', kernel_initializer=init)(x)
    x = tf.keras.layers.BatchNormalization()(x)
    return tf.keras.layers.LeakyReLU(0.2)(x)
  z = tf.keras.Input((height, width, noise_channels))
  skips, x = [], z
  for _ in range(depth):
    skips.append(conv(x, 4, k=1))
    x = conv(conv(x, channels, 2), channels)
  for skip in reversed(skips):
    x = tf.keras.layers.UpSampling2D(2, interpolation='bilinear')(x)
    x = conv(conv(tf.keras.layers.Concatenate()([x, skip]), channels), channels, k=1)
  out = tf.keras.layers.Conv2D(1, 1, activation='sigmoid', kernel_initializer=init)(x)
  return tf.keras.Model(z, out)


class DeepPrior:
  name, zone, context, oracle = 'deep_prior', 0, None, False

  def __init__(self, iterations: int = config.DEEP_PRIOR_ITERATIONS, channels: int = 32,
               noise_channels: int = 8, depth: int = 5, lr: float = config.DEEP_PRIOR_LR, phase: str = 'gl',
               stft=config.METHOD_STFT, seed: int = 0, gl_iterations: int = 100):
    if phase not in phase_options.PHASES:
      raise ValueError(f'unknown phase method {phase!r}; choose one of {phase_options.PHASES}')
    self.iterations, self.channels, self.noise_channels = iterations, channels, noise_channels
    self.depth = depth
    self.lr, self.phase, self.stft, self.seed = lr, phase, stft, seed
    self.gl_iterations = gl_iterations
    self.seconds_per_clip, self.fit_seconds = [], []
    self.first_loss, self.final_loss = [], []

  def fit_image(self, image, known_frames):
    """The net's output [bins, frames] after fitting `image` on the known frames (bool)."""
    import tensorflow as tf
    h, w = image.shape
    q = 2 ** self.depth  # the stride-2 stages need multiples of 2^depth
    hp, wp = -(-h // q) * q, -(-w // q) * q
    target = np.zeros((1, hp, wp, 1), np.float32)
    target[0, :h, :w, 0] = image
    weight = np.zeros((1, hp, wp, 1), np.float32)
    weight[0, :h, :w, 0] = known_frames[None, :]
    tf.keras.utils.set_random_seed(self.seed)
    net = _net(hp, wp, self.channels, self.noise_channels, self.depth, self.seed)
    z = tf.constant(np.random.default_rng(self.seed).uniform(0, 0.1, (1, hp, wp, self.noise_channels)),
                    tf.float32)
    opt = tf.keras.optimizers.Adam(self.lr)
    target, weight = tf.constant(target), tf.constant(weight)
    norm = tf.reduce_sum(weight)

    @tf.function
    def step():
      with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weight * (net(z, training=True) - target) ** 2) / norm
      opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
      return loss

    loss = np.nan
    for i in range(self.iterations):
      loss = step()
      if i == 0:
        self.first_loss.append(float(loss))
    self.final_loss.append(float(loss))
    return net(z, training=True).numpy()[0, :h, :w, 0]  # batch statistics, as in the fit

  def estimate(self, masked_clip, start: int, end: int) -> np.ndarray:
    """The inpainted magnitude spectrogram [frames, bins] of one clip (known frames exact)."""
    n_fft, hop = self.stft.n_fft, self.stft.hop
    t0 = time.perf_counter()
    mag = np.abs(spectrogram.stft(masked_clip, n_fft, hop))  # [frames, bins], gap zeroed
    k = np.arange(mag.shape[0])
    known = (k * hop + n_fft // 2 <= start) | (k * hop - n_fft // 2 >= end)
    ref = mag[known].max() if known.any() else 1.0
    fitted = self.fit_image(metrics.db_image(mag.T, ref, _DB), known)
    est = ref * 10 ** ((fitted.T - 1.0) * _DB / 20)
    est[known] = mag[known]
    self.fit_seconds.append(time.perf_counter() - t0)
    return est

  def fill(self, clips, mask):
    x, m = check(clips, mask)
    out = np.where(m, 0.0, x)
    for i in range(len(x)):
      t0 = time.perf_counter()
      s, e = config.gap_bounds(m[i])
      est = self.estimate(out[i], s, e)
      out[i] = phase_options.to_waveform(out[i], est, s, e, self.phase, self.stft,
                                         self.gl_iterations, self.seed)
      self.seconds_per_clip.append(time.perf_counter() - t0)
    return out
