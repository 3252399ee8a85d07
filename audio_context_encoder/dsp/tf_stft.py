"""The package's one STFT in TensorFlow (in graphs: the context encoder's features and the long-gap
training losses and classifiers).

Periodic Hann window (peak 1), no scaling, frame k starting at sample k hop of the signal, or of
the signal zero-padded by n_fft / 2 on both sides with `center` (so frame k is centred on sample
k hop). center=False is the layout of the first paper's features (context_encoder/features.py,
§2.1); center=True that of the long-gap clips, spectrogram.stft's numpy twin, and of frame_mask
(a frame touching a missing sample is masked). tests/test_longgap_models_training.py checks both
against numpy.
"""

import tensorflow as tf


def stft(x, n_fft: int, hop: int, center: bool = False) -> tf.Tensor:
  """Complex STFT [..., frames, n_fft // 2 + 1] of real signals [..., T]."""
  x = tf.convert_to_tensor(x)
  if center:
    x = tf.pad(x, [[0, 0]] * (x.shape.rank - 1) + [[n_fft // 2, n_fft // 2]])
  return tf.signal.stft(x, frame_length=n_fft, frame_step=hop, fft_length=n_fft,
                        window_fn=tf.signal.hann_window, pad_end=False)


def frame_mask(sample_mask, n_fft: int, hop: int) -> tf.Tensor:
  """[B, T] 0/1 -> [B, frames] 0/1 of the centred frames: 1 where a window touches a 1."""
  m = tf.cast(sample_mask, tf.float32)[:, :, None]
  m = tf.pad(m, [[0, 0], [n_fft // 2, n_fft // 2], [0, 0]])
  return tf.squeeze(tf.nn.max_pool1d(m, n_fft, hop, 'VALID'), -1)


def magnitude(clips, n_fft: int, hop: int) -> tf.Tensor:
  """|STFT| [B, frames, bins] of clips [B, T], centred frames."""
  return tf.abs(stft(tf.cast(clips, tf.float32), n_fft, hop, center=True))
