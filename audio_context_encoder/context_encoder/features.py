"""STFT features of a segment (paper §2.1), in TF ops.

Written once, used by the dataset builder, the tf.data pipeline and inference. Their inverse
is not here: every synthesis goes through the segment's DGT (phase.synthesize_gap and
phase.reconstruct_from_magnitudes, §2.4), one path for evaluation, inpainting and selfcheck.

Tensor layout (64 ms gap; 48 ms in brackets). All tensors are channels-last and
carry an optional leading batch dimension.

  segment          [L = 5120] samples:  | context before Lc | gap Lg | context after Lc |
  context          [16 (17) frames, 257 bins, 4 channels]
                   channels = (Re S_b, Im S_b, Re S_a, Im S_a).
                   S_b is the STFT of the 2048 (2176) samples before the gap followed
                   by M - a = 384 zeros; S_a of 384 zeros followed by the samples after
                   the gap. Frames 0..12 (0..13) of S_b and 3..15 (3..16) of S_a never
                   touch the padding.
  gap target       [11 (9) frames, 257 bins]: |STFT| of samples [Lc - 384, Lc + Lg + 384),
                   i.e. [1664, 3456) for 64 ms. The complex target is [11, 257, 2] (Re, Im).
  segment frames   the non-padded STFT of the whole segment has 37 frames:
                   0..12 = clean frames of S_b, 13..23 = gap target, 24..36 = clean S_a.

STFT: periodic Hann window of length M = 512 with peak 1, hop a = 128, FFT 512,
frame k starting at sample 128 k (tf.signal.stft). Frame k equals in magnitude
column k + 2 of LTFAT's dgtreal(x, hann 512, a=128, M=512, 'timeinv').
"""

import numpy as np
import tensorflow as tf

from audio_context_encoder.config import SignalConfig
from audio_context_encoder.dsp import tf_stft


def check_segments(segments, sig: SignalConfig, name: str = 'segments') -> tf.Tensor:
  """Returns `segments` as a float tensor after checking dtype, length and finiteness.

  Errors are ValueError/InvalidArgumentError messages that say what is wrong, not a
  shape mismatch deep inside tf.signal.
  """
  if isinstance(segments, np.ndarray) and not np.issubdtype(segments.dtype, np.floating):
    raise ValueError(f'{name} must be floating point audio, got dtype {segments.dtype}')
  if isinstance(segments, tf.Tensor) and not segments.dtype.is_floating:
    raise ValueError(f'{name} must be floating point audio, got dtype {segments.dtype.name}')
  if not isinstance(segments, (np.ndarray, tf.Tensor)):
    arr = np.asarray(segments)
    if not np.issubdtype(arr.dtype, np.floating):
      raise ValueError(f'{name} must be floating point audio, got dtype {arr.dtype}')
    segments = arr
  x = tf.convert_to_tensor(segments)
  if x.dtype != tf.float32:
    x = tf.cast(x, tf.float32)
  length = x.shape[-1] if x.shape.rank else None
  if x.shape.rank is not None and x.shape.rank not in (1, 2):
    raise ValueError(f'{name} must have shape [{sig.L}] or [batch, {sig.L}], got {x.shape}')
  if length is not None and length != sig.L:
    raise ValueError(f'{name} must be {sig.L} samples long (L, paper §3.1), got {length}')
  return tf.debugging.assert_all_finite(x, f'{name} contain NaN or infinite samples')


def context_features(segments, sig: SignalConfig) -> tf.Tensor:
  """Network input: [..., context_frames, bins, 4] = Re/Im of S_b and S_a (§2.1)."""
  x = check_segments(segments, sig)
  before = x[..., :sig.Lc]
  after = x[..., sig.L - sig.Lc:]
  zeros_shape = tf.concat([tf.shape(x)[:-1], [sig.pad]], axis=0)
  zeros = tf.zeros(zeros_shape, x.dtype)
  s_b = tf_stft.stft(tf.concat([before, zeros], axis=-1), sig.M, sig.a)
  s_a = tf_stft.stft(tf.concat([zeros, after], axis=-1), sig.M, sig.a)
  return tf.stack([tf.math.real(s_b), tf.math.imag(s_b), tf.math.real(s_a), tf.math.imag(s_a)],
                  axis=-1)


def gap_stft(segments, sig: SignalConfig) -> tf.Tensor:
  """Complex STFT of the gap region: [..., gap_frames, bins]."""
  x = check_segments(segments, sig)
  start, end = sig.gap_region
  return tf_stft.stft(x[..., start:end], sig.M, sig.a)


def gap_magnitude(segments, sig: SignalConfig) -> tf.Tensor:
  """Magnitude-network target: [..., gap_frames, bins] (§2.3)."""
  return tf.abs(gap_stft(segments, sig))


def gap_complex(segments, sig: SignalConfig) -> tf.Tensor:
  """Complex-network target: [..., gap_frames, bins, 2] = (Re, Im) (§2.3)."""
  s = gap_stft(segments, sig)
  return tf.stack([tf.math.real(s), tf.math.imag(s)], axis=-1)


def interpolation_weights(sig: SignalConfig) -> np.ndarray:
  """[gap_frames] weights of the after-context frame in `interpolated_gap_magnitude`.

  Frame centres in segment samples: the last clean before-context frame (S_b frame 12,
  centre 1792 for 64 ms), gap frame j (1920 + 128 j) and the first clean after-context
  frame (S_a frame 3, centre 3328). Linear in time: (j + 1) / 12 for 64 ms, (j + 1) / 10
  for 48 ms.
  """
  half = sig.M // 2
  before = (sig.clean_context_frames - 1) * sig.a + half
  after = sig.L - sig.Lc - sig.pad + (sig.context_frames - sig.clean_context_frames) * sig.a + half
  gap = sig.gap_region[0] + np.arange(sig.gap_frames) * sig.a + half
  return (gap - before) / (after - before)


def clean_context_magnitudes(context: tf.Tensor, sig: SignalConfig) -> tf.Tensor:
  """[..., 2 n, bins]: |S_b| of its n frames clear of the padding, then |S_a| of its n."""
  context = tf.convert_to_tensor(context)
  n = sig.clean_context_frames
  before = tf.abs(tf.complex(context[..., :n, :, 0], context[..., :n, :, 1]))
  after = tf.abs(tf.complex(context[..., sig.context_frames - n:, :, 2],
                            context[..., sig.context_frames - n:, :, 3]))
  return tf.concat([before, after], axis=-2)


def interpolation_matrix(sig: SignalConfig) -> np.ndarray:
  """[2 n, gap_frames] weights on clean_context_magnitudes: for gap frame j, 1 - w_j on the last
  before-context frame, w_j (interpolation_weights) on the first after-context frame, 0 elsewhere."""
  n = sig.clean_context_frames
  w = interpolation_weights(sig)
  matrix = np.zeros((2 * n, sig.gap_frames))
  matrix[n - 1], matrix[n] = 1 - w, w
  return matrix


def interpolated_gap_magnitude(context: tf.Tensor, sig: SignalConfig) -> tf.Tensor:
  """Gap magnitudes [..., gap_frames, bins] interpolated from the context features.

  Per frequency bin, linear interpolation in time between |S_b| of the last before-context
  frame that does not touch the padding and |S_a| of the first such after-context frame.
  A baseline that needs no training (`--method interp`), and the starting point of the
  residual network (NetworkConfig.residual = 'interp', and 'blend' before training).
  """
  magnitudes = clean_context_magnitudes(context, sig)  # [..., 2 n, bins]
  matrix = tf.constant(interpolation_matrix(sig), magnitudes.dtype)  # [2 n, gap_frames]
  return tf.einsum('...fk,fj->...jk', magnitudes, matrix)
