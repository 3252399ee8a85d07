"""The training losses of Chang et al. 2019 ("Loss Functions") as TensorFlow functions, per clip.

  masked_l1        eq. 2, E_t[M_t |O_t - A_t|]: the mean over ALL positions of the masked
                   error, the same reading as metrics.masked_l1 (docs/longgap.md), so the loss
                   and the reported ML1 are one number.
  perceptual_loss  eq. 3, sum_t |Psi(O) - Psi(A)| / N_Psi: the mean absolute difference of the
                   features of any Keras model / callable Psi (the paper: fine-tuned SoundNet on
                   waveforms, ResNet50 on spectrograms, their last layer before the dense one).
                   Psi's weights are not trained by this loss (the caller passes only the
                   inpainter's variables to the optimiser).
Both take [B, ...] tensors and return [B]; reduce with tf.reduce_mean for a scalar.
  penultimate      Psi from a trained classifier: the input of its last Dense layer.
  on_spectrogram   Psi of a spectrogram classifier applied to waveforms (|STFT| first), so a
                   waveform model can take the spectrogram perceptual loss too.
"""

import keras
import tensorflow as tf

from audio_context_encoder.dsp import tf_stft


def _flat(x):
  x = tf.convert_to_tensor(x)
  return tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1])


def masked_l1(output, target, mask) -> tf.Tensor:
  """Eq. 2 per clip; mask 1 (or True) on the missing positions, broadcastable to output."""
  o, a = _flat(output), _flat(target)
  m = _flat(tf.broadcast_to(tf.cast(mask, tf.float32), tf.shape(output)))
  return tf.reduce_mean(m * tf.abs(o - a), axis=1)


def perceptual_loss(features, output, target) -> tf.Tensor:
  """Eq. 3 per clip for a feature extractor `features` (Psi): [B, ...] -> [B, ...]."""
  fo = _flat(features(output))
  fa = tf.stop_gradient(_flat(features(target)))
  return tf.reduce_mean(tf.abs(fo - fa), axis=1)


def penultimate(classifier: keras.Model) -> keras.Model:
  """The classifier's features before its last fully connected layer ("Psi is the features
  extracted from last layer before fully-connected"); frozen."""
  dense = [l for l in classifier.layers if isinstance(l, keras.layers.Dense)]
  if not dense:
    raise ValueError(f'{classifier.name} has no Dense layer to take the features before')
  inputs = classifier.inputs[0] if len(classifier.inputs) == 1 else classifier.inputs
  psi = keras.Model(inputs, dense[-1].input, name=f'{classifier.name}_features')
  psi.trainable = False
  return psi


def on_spectrogram(features, n_fft: int, hop: int, log_floor: float = None):
  """Waveforms [B, T] -> features(|STFT| [B, frames, bins]) (log(|S| + log_floor) if given)."""
  def psi(clips):
    mag = tf_stft.magnitude(clips, n_fft, hop)
    return features(mag if log_floor is None else tf.math.log(mag + log_floor))
  return psi


def total_loss(output, target, mask, features=None, perceptual_weight: float = 0.0) -> dict:
  """{'masked_l1', 'perceptual', 'total'} scalars: eq. 2 + weight x eq. 3 (the weight is not
  in the paper; 0 = L1 only)."""
  l1 = tf.reduce_mean(masked_l1(output, target, mask))
  perc = tf.constant(0.0)
  if features is not None and perceptual_weight:
    perc = tf.reduce_mean(perceptual_loss(features, output, target))
  return {'masked_l1': l1, 'perceptual': perc, 'total': l1 + perceptual_weight * perc}
