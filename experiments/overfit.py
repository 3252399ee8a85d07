"""Overfit probe: can the whole training path fit 32 fixed examples? (issue: training learns)

  python -m experiments.overfit --loss=authors_code --batch_norm_momentum=0.9 --steps=150
  python -m experiments.overfit --loss=paper --steps=300          # the faithful eq. (2) + (3)

Trains the `small` network on 32 segments of ltfatpy's glockenspiel (batch 32, Adam 1e-3)
and prints, every --every steps, the training SNR (batch statistics) and the SNR on the
same 32 examples in inference mode (batch-norm moving statistics), both on the gap
magnitudes (audio_context_encoder/context_encoder/overfit.py; tests/test_training_overfit.py runs it too).
"""

import os

from absl import app, flags

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from audio_context_encoder.config import LOSSES  # noqa: E402
from audio_context_encoder.context_encoder.overfit import overfit  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum('loss', 'paper', list(LOSSES), 'loss (eq. (2)+(3) or the coded variant)')
flags.DEFINE_float('lambda_', 0.01, 'L2 weight of eq. (3)')
flags.DEFINE_float('batch_norm_momentum', 0.99, 'batch-norm moving-average momentum')
flags.DEFINE_float('learning_rate', 1e-3, 'Adam learning rate')
flags.DEFINE_integer('steps', 300, 'training steps')
flags.DEFINE_integer('every', 25, 'steps between reports')


def main(argv):
  del argv
  overfit(FLAGS.loss, FLAGS.lambda_, FLAGS.batch_norm_momentum, FLAGS.learning_rate, FLAGS.steps,
          FLAGS.every)


if __name__ == '__main__':
  app.run(main)
