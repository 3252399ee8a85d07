"""Copies a run's best network to models/ with a provenance JSON beside it.

  python -m experiments.ship_model --run_dir=runs/ship-music --kind=music \
      --data_dir=data/demo-music --command='make models'

Writes models/small-<kind>.keras (the run's best.keras) and models/small-<kind>.json:
the training command, the commit, steps and examples up to the best validation, wall
time, the dataset, and the validation SNR of the gap magnitudes of the network and of
the interpolation baseline (and of LPC, for residual 'lpc') on the same validation
batches. Read from the run folder (config.json, TensorBoard events), so it needs no
change to the trainer.
"""

import datetime
import json
import os
import shutil
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app, flags  # noqa: E402

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import losses
from audio_context_encoder.context_encoder import reader
from audio_context_encoder.config import Config  # noqa: E402
from audio_context_encoder.data.manifest import read_manifest  # noqa: E402
from audio_context_encoder.methods import SHIPPED_MODELS  # noqa: E402
from audio_context_encoder.common.run_events import git_commit, scalar_series, scalars, training_seconds  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('run_dir', None, 'training run folder (best.keras, config.json, train/, valid/)')
flags.DEFINE_enum('kind', None, list(SHIPPED_MODELS), 'which shipped network this is')
flags.DEFINE_string('data_dir', None, 'the dataset the run trained on')
flags.DEFINE_string('command', '', 'the command that trained the run (recorded verbatim)')
flags.DEFINE_integer('valid_batches', 50, 'validation batches the run validated on (0 = all)')
flags.DEFINE_string('out_dir', 'models', 'where shipped networks live')
flags.DEFINE_float('pause_s', 600, 'gaps between training events longer than this are pauses '
                   '(a resumed run), not training time')


def baseline_validation_snrs(data_dir, cfg, batches):
  """{'interpolation_snr_db', and with residual 'lpc' 'lpc_snr_db'}: mean per-example SNR (dB) of
  the baselines' gap magnitudes on the run's validation batches."""
  totals, count = {}, 0
  ds = reader.training_dataset(data_dir, 'valid', cfg, cfg.train.batch_size, shuffle=False,
                               repeat=False)
  for i, (inputs, target) in enumerate(ds):
    if batches and i >= batches:
      break
    context = inputs[0] if isinstance(inputs, tuple) else inputs
    preds = {'interpolation_snr_db': features.interpolated_gap_magnitude(context, cfg.signal)}
    if isinstance(inputs, tuple):
      preds['lpc_snr_db'] = inputs[1]
    for key, pred in preds.items():
      totals[key] = totals.get(key, 0.0) + float(losses.snr_db(target, pred[..., None]).numpy().sum())
    count += int(target.shape[0])
  return {key: total / count for key, total in totals.items()}


def provenance(run_dir, data_dir, command, valid_batches, pause_s):
  with open(os.path.join(run_dir, 'config.json')) as f:
    cfg = Config.from_dict(json.load(f))
  valid = scalar_series(os.path.join(run_dir, 'valid'), ('nmse', 'snr'))
  nmse = valid['nmse']
  snr = {step: value for step, _, value in valid['snr']}
  if not nmse:
    raise ValueError(f'{run_dir}: no validation has been logged yet')
  best_step = min(nmse, key=lambda e: e[2])[0]
  train_events = scalars(os.path.join(run_dir, 'train'), 'loss/total')
  steps = max(e[0] for e in train_events)
  seconds_to = lambda step: training_seconds([w for s, w, _ in train_events if s <= step], pause_s)
  manifest = read_manifest(data_dir)
  return {
      'command': command,
      'commit': git_commit(),
      'written': f'{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC',
      'preset': cfg.name, 'residual': cfg.network.residual,
      'context_magnitudes': cfg.network.context_magnitudes, 'loss': cfg.train.loss,
      'batch_size': cfg.train.batch_size,
      'best_step': best_step, 'examples': best_step * cfg.train.batch_size,
      'steps_trained': steps,
      'wall_time_s_to_best': round(seconds_to(best_step)),
      'wall_time_s_total': round(seconds_to(steps)),
      'data': {'dir': data_dir, 'source': manifest.get('source'),
               'train_segments': manifest.get('splits', {}).get('train', {}).get('kept_64')},
      'validation': {'batches': valid_batches, 'snr_db': snr.get(best_step),
                     'nmse': min(e[2] for e in nmse),
                     **baseline_validation_snrs(data_dir, cfg, valid_batches),
                     'curve_snr_db': sorted(snr.items())},
  }


def main(argv):
  del argv
  for name in ('run_dir', 'kind', 'data_dir'):
    if not getattr(FLAGS, name):
      sys.exit(f'ship_model.py: --{name} is required')
  best = os.path.join(FLAGS.run_dir, 'best.keras')
  if not os.path.isfile(best):
    sys.exit(f'ship_model.py: {best}: no such file (train the run first)')
  info = provenance(FLAGS.run_dir, FLAGS.data_dir, FLAGS.command, FLAGS.valid_batches,
                    FLAGS.pause_s)
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  target = os.path.join(FLAGS.out_dir, f'small-{FLAGS.kind}')
  with atomic.replacing(target + '.keras') as tmp:
    shutil.copyfile(best, tmp)
  atomic.write_json(target + '.json', info, indent=1)
  v = info['validation']
  print(f'{target}.keras: step {info["best_step"]} ({info["examples"]:,} examples, '
        f'{info["wall_time_s_to_best"] / 3600:.2f} h), validation SNR {v["snr_db"]:.2f} dB '
        f'(interpolation {v["interpolation_snr_db"]:.2f} dB'
        + (f', LPC {v["lpc_snr_db"]:.2f} dB)' if 'lpc_snr_db' in v else ')'))


if __name__ == '__main__':
  app.run(main)
