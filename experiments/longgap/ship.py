"""Copies a long-gap run's network to models/ with its provenance JSON (`make longgap-models`).

  python -m experiments.longgap.ship --run_dir=runs/lg-wave --command='make longgap-models'
  python -m experiments.longgap.ship --classifiers_dir=runs/classifiers-esc50

Writes models/longgap-<model>-<protocol>.keras (the run's last.keras) and the .json beside it
that longgap/trained.py reads: config.json's fields, the command, the commit, the steps, the
training wall time and the last validation scalars. The logic is audio_context_encoder/longgap/shipping.py.
"""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app, flags  # noqa: E402

from audio_context_encoder.common.errors import DatasetError  # noqa: E402
from audio_context_encoder.longgap.shipping import ship, ship_classifiers  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('run_dir', None, 'a long-gap run folder (last.keras, config.json, checkpoints/, '
                    'train/, valid/)')
flags.DEFINE_string('classifiers_dir', None, 'instead of --run_dir: a classifiers run folder '
                    '(experiments/longgap/classifiers.py --clf_out): both kinds found are shipped')
flags.DEFINE_string('note', '', 'with --classifiers_dir: a note for the JSON (e.g. how it was run)')
flags.DEFINE_string('command', '', 'the command that trained the run (recorded verbatim)')
flags.DEFINE_string('out_dir', 'models', 'where shipped networks live')
flags.DEFINE_float('pause_s', 600, 'gaps between training events longer than this are pauses '
                   '(a resumed run), not training time')


def main(argv):
  del argv
  if FLAGS.classifiers_dir:
    try:
      for target in ship_classifiers(FLAGS.classifiers_dir, FLAGS.out_dir, FLAGS.note):
        print(target)
    except (ValueError, OSError, DatasetError) as e:  # DatasetError: its data folder is gone
      sys.exit(f'experiments/longgap/ship.py: {e}')
    return
  if not FLAGS.run_dir:
    sys.exit('experiments/longgap/ship.py: --run_dir (or --classifiers_dir) is required')
  try:
    target, info = ship(FLAGS.run_dir, FLAGS.command, FLAGS.out_dir, FLAGS.pause_s)
  except (ValueError, OSError) as e:
    sys.exit(f'experiments/longgap/ship.py: {e}')
  v = info['validation']
  print(f'{target}: step {info["steps"]} ({info["wall_time_s"] / 3600:.2f} h); validation at step '
        f'{v["step"]}: waveform ML1 {v["ml1_waveform"]:.5f} (masked input '
        f'{v["ml1_masked_input"]:.5f}), spectral SNR {v["spectral_snr_db"]:.2f} dB')


if __name__ == '__main__':
  app.run(main)
