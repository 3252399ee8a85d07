"""Overfit probe: can the whole training path fit 32 fixed examples? (training learns)

Trains the `small` network on 32 segments of ltfatpy's glockenspiel (batch 32, Adam 1e-3)
and reports, every `every` steps, the training SNR (batch statistics) and the SNR on the
same 32 examples in inference mode (batch-norm moving statistics), both on the gap
magnitudes. experiments/overfit.py is its command line; tests/test_training_overfit.py runs it.
"""

import dataclasses
import os
import tempfile

import numpy as np
import tensorflow as tf

from audio_context_encoder.audio import audio_file
from audio_context_encoder import config
from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import training


def gspi_segments(n: int, length: int = 5120) -> np.ndarray:
  """`n` segments of ltfatpy's glockenspiel at 16 kHz, evenly spread over the recording."""
  x = audio_file.glockenspiel_16k()
  starts = np.linspace(0, len(x) - length, n).astype(int)
  return np.stack([x[s:s + length] for s in starts]).astype(np.float32)


def scalars(folder: str, tag: str) -> dict:
  """{step: value} of a scalar in the TensorBoard event files of `folder`."""
  out = {}
  for name in sorted(os.listdir(folder)):
    for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
      for v in event.summary.value:
        if v.tag == tag:
          out[event.step] = float(tf.make_ndarray(v.tensor))
  return out


def overfit(loss='paper', lambda_=0.01, batch_norm_momentum=0.99, learning_rate=1e-3, steps=300,
            every=25, examples=32, log=print):
  """[(step, training SNR, inference-mode SNR)] of the small network fitting `examples` segments."""
  cfg = config.get('small')
  cfg = cfg.replace(
      network=dataclasses.replace(cfg.network, batch_norm_momentum=batch_norm_momentum),
      train=dataclasses.replace(cfg.train, loss=loss, lambda_=lambda_, batch_size=examples,
                                learning_rate=learning_rate, learning_rate_final=learning_rate,
                                validation_interval=every, steps=steps))
  seg = gspi_segments(examples)
  context = features.context_features(seg, cfg.signal).numpy()
  target = features.gap_magnitude(seg, cfg.signal).numpy()[..., None]
  data = tf.data.Dataset.from_tensor_slices((context, target))
  with tempfile.TemporaryDirectory() as run_dir:
    trainer = training.Trainer(cfg, run_dir, training.RunOptions(
        log_every=every, checkpoint_every=steps + 1, progress=False))
    trainer.fit(lambda seed: data.shuffle(examples, seed=seed).repeat().batch(examples),
                lambda: data.batch(examples))
    train_snr, valid_snr = (scalars(os.path.join(run_dir, d), 'snr') for d in ('train', 'valid'))
  history = [(step, train_snr.get(step), valid_snr[step]) for step in sorted(valid_snr)]
  for step, t, v in history:
    log(f'step {step:4d}: SNR on the {examples} examples: training {t:6.2f} dB, '
        f'inference mode {v:6.2f} dB')
  return history
