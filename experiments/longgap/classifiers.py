"""Trains the perceptual-distance classifiers (Chang et al. 2019, Table 1's "not pretrained"
rows, small nets) on a built long-gap folder and reports their test accuracy.

  nice -n 5 python -m experiments.longgap.classifiers --clf_data data/longgap-sc09-standin \
      --clf_out runs/classifiers-sc09-standin --clf_epochs 30 --clf_time_budget_s 300
Writes <clf_out>/{wave,spec}.keras and .json (audio_context_encoder/longgap/classifier_training.py);
experiments/longgap/score.py --classifiers_dir reads them for the perceptual distances.
"""

import os
import sys

from absl import app, flags

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.data import clip_dataset  # noqa: E402
from audio_context_encoder.config import STRATEGIES  # noqa: E402
from audio_context_encoder.longgap import classifier_training as trainer  # noqa: E402

FLAGS = flags.FLAGS  # names no other entry point uses (tests/test_flag_names.py)
flags.DEFINE_string('clf_data', None, 'a built long-gap folder (tfrecords_tools/longgap_dataset.py)')
flags.DEFINE_string('clf_out', None, 'output folder of the .keras and .json files')
flags.DEFINE_list('clf_kinds', list(trainer.KINDS), 'which classifiers: wave, spec')
flags.DEFINE_integer('clf_epochs', 30, 'most epochs (early stopping on valid accuracy)')
flags.DEFINE_integer('clf_patience', 4, 'epochs without a better valid accuracy before stopping')
flags.DEFINE_float('clf_time_budget_s', 0, 'stop each classifier after this many seconds (0: none)')
flags.DEFINE_integer('clf_batch_size', 32, 'clips per step')
flags.DEFINE_float('clf_lr', 1e-3, 'Adam learning rate')
flags.DEFINE_integer('clf_seed', 0, 'initialisation seed')
flags.DEFINE_string('clf_report', None, 'also write the Table 1 analogue (markdown) here')
flags.DEFINE_string('clf_weights', None, 'external weights to start from: a path per kind, '
                    'with {kind} in it (e.g. converted pretrained ones; same architecture)')
flags.DEFINE_enum('clf_strategy', 'default', list(STRATEGIES),
                  'tf.distribute strategy of the training loop (multi_worker: TF_CONFIG)')


def main(argv):
  del argv
  if not FLAGS.clf_data or not FLAGS.clf_out:
    sys.exit('give --clf_data and --clf_out')
  command = 'python -m experiments.longgap.classifiers ' + ' '.join(sys.argv[1:])
  for kind in FLAGS.clf_kinds:
    weights = FLAGS.clf_weights.format(kind=kind) if FLAGS.clf_weights else None
    try:
      r = trainer.train(kind, FLAGS.clf_data, FLAGS.clf_out, epochs=FLAGS.clf_epochs,
                        time_budget_s=FLAGS.clf_time_budget_s, batch_size=FLAGS.clf_batch_size,
                        patience=FLAGS.clf_patience, lr=FLAGS.clf_lr, seed=FLAGS.clf_seed,
                        weights=weights, command=command, strategy=FLAGS.clf_strategy)
    except ValueError as e:  # a damaged folder, other settings in its run folder, a lost worker
      sys.exit(f'error: {e}')
    print(f"{kind}: test accuracy {r['test_accuracy']:.3f} (best valid {r['best_valid_accuracy']:.3f}, "
          f"epoch {r['best_epoch']} of {r['epochs_run']}, {r['train_seconds']:.0f} s, {r['params']} parameters)")
  if FLAGS.clf_report:
    records = {k: trainer.load_classifier(FLAGS.clf_out, k)[1] for k in trainer.KINDS
               if os.path.exists(os.path.join(FLAGS.clf_out, f'{k}.json'))}
    protocol = clip_dataset.read_settings(FLAGS.clf_data)['protocol']
    text = trainer.table(records, FLAGS.clf_data, protocol) + f'Table by: `{command}`\n'
    atomic.write_text(FLAGS.clf_report, text)
    print(text)


if __name__ == '__main__':
  app.run(main)
