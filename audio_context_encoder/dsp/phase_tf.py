"""Masked fast Griffin-Lim as a TensorFlow graph (runs on a GPU when one is visible).

The loop of phase._fgla_iterate on [B, U, bins] complex128, with the layout facts
of dgt.HopLayout (FFT-order windows, hop-chunk buffer): synthesis is
irfft -> dual window -> overlap_and_add onto the known columns' fixed background,
analysis is frame -> window -> rfft. Contiguous unknown columns only (the gap).
PGHI stays in numpy (phase._integrate: a data-dependent chain of ~3300 pops per
segment, which a graph would run as as many tiny sequential steps).
"""

import numpy as np
import tensorflow as tf


@tf.function(reduce_retracing=True)
def _fgla(c, target, background, window_fft, dual_fft, iterations, alpha, half, hop):
  m = tf.shape(window_fft)[0]
  cols = tf.shape(c)[1]

  def body(i, c, t_old):
    frames = tf.signal.irfft(c, fft_length=[m]) * dual_fft  # FFT order
    frames = tf.roll(frames, half, axis=-1)  # natural order: window start first
    buffer = background + tf.signal.overlap_and_add(frames, hop)
    frames = tf.roll(tf.signal.frame(buffer, m, hop)[:, :cols], half, axis=-1) * window_fft
    projected = tf.signal.rfft(frames, fft_length=[m])
    modulus = tf.abs(projected)
    scaled = projected * tf.complex(tf.math.divide_no_nan(target, modulus), tf.zeros_like(modulus))
    t_new = tf.where(modulus > 0, scaled, tf.complex(target, tf.zeros_like(target)))
    return i + 1, t_new + alpha * (t_new - t_old), t_new

  _, c, _ = tf.while_loop(lambda i, *_: i < iterations, body, (tf.constant(0), c, c))
  return c


def fgla_unknown(c, target, background, layout, iterations: int, alpha: float) -> np.ndarray:
  """phase._fgla_iterate in TF: c [B, U, bins] complex, target |c|, background [B, chunks, a]."""
  if layout.offsets is None:
    raise NotImplementedError('the TF FGLA needs contiguous unknown columns (the gap)')
  sig = layout.sig
  b = c.shape[0]
  out = _fgla(tf.constant(c, tf.complex128), tf.constant(target, tf.float64),
              tf.constant(np.reshape(background, (b, -1)), tf.float64),
              tf.constant(layout.window_fft, tf.float64), tf.constant(layout.dual_fft, tf.float64),
              tf.constant(iterations), tf.constant(alpha, tf.complex128), sig.M // 2, sig.a)
  return out.numpy()
