"""Trains a long-gap network (Chang et al. 2019, Fig. 2) on a built long-gap folder; resumable.

  python -m experiments.longgap.train --data_dir data/longgap-sc09-standin --model spec \
      --preset small --steps 2000 --time_budget_s 600
Writes runs/<name>/ in the one run folder layout (training/trainer.py): config.json (the model
config and flags), checkpoints/ (step, weights, optimiser), train/ TensorBoard scalars, valid/
scalars (the loss, the waveform ML1 of the model and of the masked input) with the first valid
clip's audio and spectrograms, best.keras (the best validation ML1), last.keras.
Re-running the same command resumes exactly: batch b is drawn from a generator seeded by
(seed, b), so the clips, crops and masks of a step do not depend on interruptions. Training
masks: the protocol's random masks (config.Protocol.random_train_mask, ESC-50's repeat-and-crop);
validation: the fixed test mask on the valid split. docs/longgap_models.md.
"""

import inspect
import os
import sys

from absl import app, flags

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from audio_context_encoder.longgap.trainer import train  # noqa: E402
from audio_context_encoder.common.errors import DatasetError  # noqa: E402
from audio_context_encoder.config import STRATEGIES  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('data_dir', None, 'a built long-gap folder (tfrecords_tools/longgap_dataset.py)')
flags.DEFINE_enum('model', 'spec', ['spec', 'wave'], 'the spectrogram or the waveform network')
flags.DEFINE_enum('preset', 'small', ['paper', 'small'], 'model sizes (longgap/model_config.py)')
flags.DEFINE_integer('steps', 1000, 'total training steps')
flags.DEFINE_integer('batch_size', 8, 'clips per step (INFERRED: not in the paper)')
flags.DEFINE_float('lr', 1e-3, 'Adam learning rate (INFERRED: not in the paper)')
flags.DEFINE_float('time_budget_s', 0, 'stop after this many seconds (checkpointed; 0 = no limit)')
flags.DEFINE_string('runs_dir', 'runs', 'parent folder of the run folders')
flags.DEFINE_string('name', None, 'run folder name (default longgap-<preset>-<dataset>-<model>)')
flags.DEFINE_integer('log_every', 50, 'steps between training scalars')
flags.DEFINE_integer('checkpoint_every', 200, 'steps between checkpoints')
flags.DEFINE_integer('valid_every', 500, 'steps between validations')
flags.DEFINE_integer('valid_clips', 64, 'valid clips per validation (0 = none)')
flags.DEFINE_integer('seed', 0, 'initialisation and batch seed')
flags.DEFINE_integer('gl_iterations', 32, 'Griffin-Lim iterations of the spectrogram model in validation')
flags.DEFINE_enum('magnitude', None, ['log', 'linear'], 'the spectrogram network\'s domain (default: '
                  'the preset\'s, log); linear trains eq. 2 on |S|, which spectral SNR measures')
flags.DEFINE_enum('baseline', '', ['', 'interp'], 'spectrogram network only, not in the paper '
                  '(off by default; docs/longgap_models.md, "Starting from a baseline"): interp = '
                  'learn a correction to the gap\'s interpolated log magnitudes, zero at step 0')
flags.DEFINE_string('perceptual_classifier', None, 'eq. 3: a classifier NAME.keras (+ .json), e.g. '
                    'models/longgap-classifier-wave-sc09.keras; waveform network only')
flags.DEFINE_float('perceptual_weight', 0.0, 'weight of eq. 3 beside eq. 2 (not in the paper; 0 = L1 only)')
flags.DEFINE_enum('valid_phase', 'gl', ['gl', 'pghi+fgla'], 'phase retrieval of the spectrogram model in '
                  'validation: the paper\'s Griffin-Lim, or masked PGHI + FGLA from the context')
flags.DEFINE_enum('strategy', 'default', list(STRATEGIES),
                  'tf.distribute strategy of the training loop (multi_worker: TF_CONFIG)')


def main(argv):
  del argv
  if not FLAGS.data_dir:
    sys.exit('--data_dir is required (a built long-gap folder, e.g. make longgap-demo-data)')
  # Every flag named as a parameter of train() is passed as it is; --model is its `kind`.
  options = {name: getattr(FLAGS, name) for name in inspect.signature(train).parameters
             if name in FLAGS}
  try:
    out = train(kind=FLAGS.model, **options)
  except (DatasetError, ValueError) as e:
    sys.exit(f'error: {e}')
  print(f'{out["run_dir"]}: step {out["step"]} (stopped by {out["stopped"]})')


if __name__ == '__main__':
  app.run(main)
