"""Trains the context encoder on a built dataset folder (paper §3.3); resumable.

  python -m experiments.train --data_dir data/demo-music --preset small --steps 2000
Writes runs/<name>/: config.json, checkpoints/, train/ and valid/ TensorBoard events,
best.keras (best validation NMSE) and last.keras. Re-running the same command resumes.
"""

import dataclasses
import os
import sys

from absl import app, flags, logging

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# TensorFlow (reader, training) is imported once the flags are checked: a mistake is one line
# in a second, with nothing created.
from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder import config
from audio_context_encoder.common.errors import DatasetError, UserError, WriteError  # noqa: E402
from audio_context_encoder.data.manifest import check_splits  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('data_dir', None, 'dataset folder with {train,valid}-*.tfrecord and manifest.json')
flags.DEFINE_string('runs_dir', 'runs', 'parent folder of the run folders')
flags.DEFINE_string('name', None, 'run folder name (default: <preset>-<dataset>-<network>)')
flags.DEFINE_enum('preset', 'paper', list(config.PRESETS), 'network widths and schedule')
flags.DEFINE_enum('network', 'magnitude', list(config.OUTPUTS), 'output of the network (§2.3)')
flags.DEFINE_integer('steps', 0, 'total steps (0 = the preset\'s two phases, 800k for paper)')
flags.DEFINE_integer('batch_size', 0, 'global batch size (0 = preset: 256 for paper)')
flags.DEFINE_integer('lr_drop_step', 0, 'step of the 1e-3 -> 1e-4 drop (0 = preset, 600k for paper)')
flags.DEFINE_integer('lr_drop_patience', None, 'also drop after this many validations without a new best')
flags.DEFINE_enum('loss', None, list(config.LOSSES), 'loss (default: preset, eq. (2)+(3))')
flags.DEFINE_enum('batch_reduction', None, list(config.REDUCTIONS),
                  'per-example loss reduction (default sum)')
flags.DEFINE_float('lambda_', None, 'L2 weight of eq. (3) (default 0.01)')
flags.DEFINE_integer('validation_interval', 0, 'steps between validations (0 = preset, 2000)')
flags.DEFINE_integer('valid_batches', 0, 'validation batches per validation (0 = whole split)')
flags.DEFINE_integer('checkpoint_every', 1000, 'steps between checkpoints')
flags.DEFINE_integer('log_every', 100, 'steps between TensorBoard training summaries')
flags.DEFINE_enum('strategy', 'default', list(config.STRATEGIES),
                  'tf.distribute strategy (multi_worker reads TF_CONFIG)')
flags.DEFINE_enum('precision', 'float32', list(config.PRECISIONS),
                  'Keras dtype policy')
flags.DEFINE_bool('jit', False, 'XLA-compile the forward/backward pass')
flags.DEFINE_integer('seed', 0, 'initialisation and shuffle seed')
flags.DEFINE_float('time_budget_s', 0, 'stop after this many seconds of wall time (checkpoint, '
                   'validation and best.keras are written; re-running continues); 0 = no limit')
flags.DEFINE_float('batch_norm_momentum', None, 'batch-norm moving-average momentum (default 0.99)')
flags.DEFINE_enum('residual', None, list(config.RESIDUALS),
                  "deviation: 'interp' = interpolated border magnitudes + learnt correction; "
                  "'blend' = a learnt blend of the context frames' magnitudes + correction; "
                  "'lpc' = LPC's gap magnitudes, weighted, + blend + correction "
                  "(default: none, the paper's output)")
flags.DEFINE_bool('context_magnitudes', None,
                  'deviation: the encoder also sees the context magnitudes |S_b|, |S_a| '
                  "(default: false, the paper's Re/Im input)")


def build_config():
  """The run's whole definition: the preset, changed by the flags given (schedule included)."""
  cfg = config.get(FLAGS.preset, 64, FLAGS.network)
  changes = {'steps': FLAGS.steps, 'lr_drop_step': FLAGS.lr_drop_step, 'seed': FLAGS.seed}
  for flag, field in (('batch_size', 'batch_size'), ('validation_interval', 'validation_interval')):
    if getattr(FLAGS, flag):
      changes[field] = getattr(FLAGS, flag)
  for flag, field in (('loss', 'loss'), ('batch_reduction', 'batch_reduction'),
                      ('lambda_', 'lambda_'), ('lr_drop_patience', 'lr_drop_patience')):
    if getattr(FLAGS, flag) is not None:
      changes[field] = getattr(FLAGS, flag)
  cfg = cfg.replace(train=dataclasses.replace(cfg.train, **changes))
  network = {}
  if FLAGS.batch_norm_momentum is not None:
    network['batch_norm_momentum'] = FLAGS.batch_norm_momentum
  if FLAGS.residual is not None:
    network['residual'] = FLAGS.residual
  if FLAGS.context_magnitudes is not None:
    network['context_magnitudes'] = FLAGS.context_magnitudes
  if network:
    cfg = cfg.replace(network=dataclasses.replace(cfg.network, **network))
  return cfg


def flag_problem():
  """Why the flags cannot define a run (a value out of range, a name that is a path), or None."""
  f = FLAGS
  bounds = [('steps', f.steps >= 0, "0 (the preset's schedule) or more"),
            ('batch_size', f.batch_size >= 0, "0 (the preset's) or more"),
            ('lr_drop_step', f.lr_drop_step >= 0, "0 (the preset's) or more"),
            ('lr_drop_patience', f.lr_drop_patience is None or f.lr_drop_patience >= 1, '1 or more'),
            ('lambda_', f.lambda_ is None or f.lambda_ >= 0, '0 or more'),
            ('validation_interval', f.validation_interval >= 0, "0 (the preset's) or more"),
            ('valid_batches', f.valid_batches >= 0, '0 (the whole split) or more'),
            ('checkpoint_every', f.checkpoint_every >= 1, '1 or more'),
            ('log_every', f.log_every >= 1, '1 or more'),
            ('time_budget_s', f.time_budget_s >= 0, '0 (no limit) or more'),
            ('batch_norm_momentum', f.batch_norm_momentum is None or 0 <= f.batch_norm_momentum < 1,
             'in [0, 1)')]
  for name, ok, allowed in bounds:
    if not ok:
      return f'--{name}={getattr(f, name)}: must be {allowed}'
  if f.name is not None and (f.name in ('', '.', '..') or os.path.basename(f.name) != f.name):
    return f'--name={f.name}: must be a folder name inside --runs_dir, not a path'
  if os.path.exists(f.runs_dir) and not os.path.isdir(f.runs_dir):
    return f'--runs_dir={f.runs_dir}: is a file, not a folder'
  return None


def check_runs_dir(runs_dir: str) -> None:
  """The nearest existing folder of runs_dir takes new files (WriteError otherwise)."""
  folder = os.path.abspath(runs_dir)
  while not os.path.exists(folder):
    folder = os.path.dirname(folder)
  if not os.path.isdir(folder):
    raise WriteError(f'{runs_dir}: {folder} is a file, not a folder')
  atomic.check_writable(os.path.join(folder, 'probe'))


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # TF's per-checkpoint INFO lines would break the progress bar
  problem = flag_problem()
  if problem:
    sys.exit(f'train.py: {problem}')
  if not FLAGS.data_dir:
    sys.exit('train.py: --data_dir is required (e.g. data/demo-music; `make demo-data` builds it)')
  if not os.path.isfile(os.path.join(FLAGS.data_dir, 'manifest.json')):
    sys.exit(f'train.py: {FLAGS.data_dir}: no manifest.json, not a dataset folder '
             '(`make demo-data` builds one)')
  cfg = build_config()
  try:  # before the run folder exists: a bad dataset or folder leaves nothing behind
    check_splits(FLAGS.data_dir, ('train', 'valid'), 64 if cfg.signal.Lg == 1024 else 48)
    check_runs_dir(FLAGS.runs_dir)
    from audio_context_encoder.training import trainer as trainer_lib
    trainer_lib.make_strategy(FLAGS.strategy)  # before TensorFlow runs anything (multi_worker)
    from audio_context_encoder.context_encoder import reader
    from audio_context_encoder.context_encoder import training
    reader.check_shards(FLAGS.data_dir, ('train', 'valid'))
  except (DatasetError, WriteError) as e:
    sys.exit(f'train.py: {e}')
  import tensorflow as tf
  name = FLAGS.name or f'{FLAGS.preset}-{os.path.basename(os.path.normpath(FLAGS.data_dir))}-{FLAGS.network}'
  run_dir = os.path.join(FLAGS.runs_dir, name)
  options = training.RunOptions(
      checkpoint_every=FLAGS.checkpoint_every, log_every=FLAGS.log_every,
      valid_batches=FLAGS.valid_batches, strategy=FLAGS.strategy, precision=FLAGS.precision,
      jit=FLAGS.jit, time_budget_s=FLAGS.time_budget_s)
  batch = cfg.train.batch_size
  try:
    trainer = training.Trainer(cfg, run_dir, options)
    if trainer.resumed_from:
      print(f'resuming {run_dir} at step {trainer.resumed_from} '
            f'(learning rate {trainer.learning_rate():g})')
    result = trainer.fit(
        lambda seed: reader.training_dataset(FLAGS.data_dir, 'train', cfg, batch, shuffle=True,
                                             seed=seed, repeat=True),
        lambda: reader.training_dataset(FLAGS.data_dir, 'valid', cfg, batch, shuffle=False,
                                        repeat=False))
  except (UserError, FileNotFoundError, DatasetError, WriteError) as e:
    sys.exit(f'train.py: {e}')
  except tf.errors.DataLossError:
    sys.exit(f'train.py: {reader.damaged_shard(FLAGS.data_dir, ("train", "valid"))}')
  print(training.summary_line(run_dir, result, batch))


if __name__ == '__main__':
  app.run(main)
