"""The long-gap STFT magnitude and frame mask in TensorFlow (differentiable, inside training).

Same layout as spectrogram.stft (centred, zero-padded, periodic Hann) and models.frame_mask (a
frame touching a missing sample is masked); tests/test_longgap_models_training.py checks both.
"""

import tensorflow as tf


def frame_mask(sample_mask, n_fft: int, hop: int) -> tf.Tensor:
  """[B, T] 0/1 -> [B, frames] 0/1."""
  m = tf.cast(sample_mask, tf.float32)[:, :, None]
  m = tf.pad(m, [[0, 0], [n_fft // 2, n_fft // 2], [0, 0]])
  return tf.squeeze(tf.nn.max_pool1d(m, n_fft, hop, 'VALID'), -1)


def magnitude(clips, n_fft: int, hop: int) -> tf.Tensor:
  """|STFT| [B, frames, bins] of clips [B, T]."""
  x = tf.pad(tf.cast(clips, tf.float32), [[0, 0], [n_fft // 2, n_fft // 2]])
  s = tf.signal.stft(x, n_fft, hop, n_fft, window_fn=tf.signal.hann_window, pad_end=False)
  return tf.abs(s)
