"""Feature extraction rate, ours (TF, batched) vs ltfatpy dgtreal, one core, same segments."""

from benchmarks.common import best_time, pin_one_core

pin_one_core()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ltfatpy import dgtreal, firwin  # noqa: E402

from audio_context_encoder import config  # noqa: E402
from audio_context_encoder.context_encoder import features

BATCH = 256


def main():
  sig = config.signal_config(64)
  segments = np.random.default_rng(0).standard_normal((BATCH, sig.L)).astype(np.float32)

  @tf.function
  def ours(x):
    return features.context_features(x, sig), features.gap_magnitude(x, sig)

  t_ours = best_time(lambda: [t.numpy() for t in ours(segments)])

  window, _ = firwin('hann', sig.M, norm='peak')
  x64 = segments.astype(np.float64)
  start, end = sig.gap_region
  zeros = np.zeros((BATCH, sig.pad))
  before = np.concatenate([x64[:, :sig.Lc], zeros], axis=1)
  after = np.concatenate([zeros, x64[:, -sig.Lc:]], axis=1)
  gap = x64[:, start:end]

  def ltfat_same_features():
    # The same three transforms per segment (padded before/after contexts, gap region);
    # LTFAT's DGT is circular, so each is a transform of that piece zero-extended to a multiple of M.
    for b, a, g in zip(before, after, gap):
      dgtreal(b, window, sig.a, sig.M, None, 'timeinv')
      dgtreal(a, window, sig.a, sig.M, None, 'timeinv')
      np.abs(dgtreal(g, window, sig.a, sig.M, None, 'timeinv')[0])

  def ltfat_one_dgt():
    for x in x64:
      dgtreal(x, window, sig.a, sig.M, sig.L, 'timeinv')

  t_same = best_time(ltfat_same_features, repeats=3)
  t_one = best_time(ltfat_one_dgt, repeats=3)
  print(f'feature extraction, 64 ms layout, {BATCH} segments, one core')
  print(f'  ours (tf.signal, batched):                 {BATCH / t_ours:10.0f} segments/s')
  print(f'  ltfatpy dgtreal, same three transforms:    {BATCH / t_same:10.0f} segments/s')
  print(f'  ltfatpy dgtreal, one 5120-sample DGT only: {BATCH / t_one:10.0f} segments/s')
  print(f'  ours / ltfatpy (same features):            {t_same / t_ours:10.2f} x')


if __name__ == '__main__':
  main()
