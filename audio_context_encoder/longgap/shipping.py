"""Ships a long-gap training run (experiments/longgap/train.py) as a network of the package:
the logic of experiments/longgap/ship.py, without flags so the tests can import it.

models/longgap-<model>-<protocol>.keras (longgap-spec-<baseline>-<protocol>.keras for a
baseline-start network) is the run's last.keras; the JSON beside it is the
run's config.json (what longgap/trained.py needs to load it) plus its provenance: the training
command, the commit, the steps, the training wall time and the last validation.
"""

import json
import pathlib
import shutil

import tensorflow as tf

from audio_context_encoder.common import atomic
from audio_context_encoder.longgap.trained import longgap_model_file
from audio_context_encoder.common.run_events import git_commit, scalar_series, scalars, training_seconds

# The scalars longgap/trainer.validate writes under RUN_DIR/valid.
VALID_TAGS = ('loss_masked_l1', 'ml1_waveform', 'ml1_masked_input', 'spectral_snr_db')


def checkpoint_step(run_dir: pathlib.Path) -> int:
  """The step of the run's latest checkpoint (its last.keras, which is written after it)."""
  latest = tf.train.latest_checkpoint(str(run_dir / 'checkpoints'))
  if latest is None:
    raise ValueError(f'{run_dir}: no checkpoint (train the run first)')
  if (run_dir / 'last.keras').stat().st_mtime < pathlib.Path(latest + '.index').stat().st_mtime:
    raise ValueError(f'{run_dir}: last.keras is older than {pathlib.Path(latest).name} (the run '
                     'was stopped; re-run its training command to finish it)')
  return int(tf.train.load_variable(latest, 'step/.ATTRIBUTES/VARIABLE_VALUE'))


def last_validation(run_dir: pathlib.Path, events: dict) -> dict:
  """{'step', and each of VALID_TAGS}: the run's last validation, from scalar_series of
  RUN_DIR/valid."""
  missing = [tag for tag in VALID_TAGS if not events[tag]]
  if missing:
    raise ValueError(f'{run_dir / "valid"}: no {", ".join(missing)} logged (a run with '
                     '--valid_clips 0, or of an older trainer)')
  step = max(s for s, _, _ in events['loss_masked_l1'])
  return {'step': step, **{tag: [v for s, _, v in events[tag] if s == step][-1] for tag in VALID_TAGS}}


def provenance(run_dir, command: str, pause_s: float = 600) -> dict:
  """config.json's fields plus command, commit, steps, wall_time_s and validation."""
  run_dir = pathlib.Path(run_dir)
  record = json.loads((run_dir / 'config.json').read_text())
  valid = scalar_series(run_dir / 'valid', VALID_TAGS)
  wall = [w for _, w, _ in scalars(run_dir / 'train', 'total')]
  wall += [w for _, w, _ in valid[VALID_TAGS[0]]]
  return {**record, 'command': command, 'commit': git_commit(), 'steps': checkpoint_step(run_dir),
          'wall_time_s': round(training_seconds(wall, pause_s)),
          'validation': last_validation(run_dir, valid)}


def ship(run_dir, command: str, out_dir='models', pause_s: float = 600):
  """Copies RUN_DIR/last.keras to OUT_DIR/longgap-<model>-<protocol>.keras and writes the
  JSON beside it (each file all at once); returns (the .keras path, the JSON's content)."""
  run_dir = pathlib.Path(run_dir)
  last = run_dir / 'last.keras'
  if not last.is_file() or not (run_dir / 'config.json').is_file():
    raise ValueError(f'{run_dir}: no last.keras and config.json (not a finished long-gap run)')
  info = provenance(run_dir, command, pause_s)
  target = pathlib.Path(out_dir) / longgap_model_file(info['model'], info['protocol'],
                                                      info['config'].get('baseline', ''))
  target.parent.mkdir(parents=True, exist_ok=True)
  with atomic.replacing(str(target)) as tmp:
    shutil.copyfile(last, tmp)
  atomic.write_json(str(target.with_suffix('.json')), info, indent=1)
  return target, info


def ship_classifiers(clf_out, out_dir='models', note: str = ''):
  """Copies the classifiers of a classifiers run (CLF_OUT/{wave,spec}.keras + .json, made by
  experiments/longgap/classifiers.py) to OUT_DIR/longgap-classifier-<kind>-<protocol>.keras,
  their JSON with the commit, the data folder and `note` added; returns the paths written."""
  from audio_context_encoder.data import clip_dataset
  clf_out, written = pathlib.Path(clf_out), []
  for kind in ('wave', 'spec'):
    model, meta = clf_out / f'{kind}.keras', clf_out / f'{kind}.json'
    if not (model.is_file() and meta.is_file()):
      continue
    info = json.loads(meta.read_text())
    data_dir = info.get('data_dir') or _flag_value(info.get('command', ''), '--clf_data')
    if not data_dir:
      raise ValueError(f'{meta}: says not which data folder it was trained on')
    protocol = clip_dataset.read_settings(data_dir)['protocol']
    target = pathlib.Path(out_dir) / f'longgap-classifier-{kind}-{protocol}.keras'
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(str(target)) as tmp:
      shutil.copyfile(model, tmp)
    info.update({'commit': git_commit(), 'data_dir': data_dir,
                 'shipped': f'copied from {clf_out} to {target}', **({'note': note} if note else {})})
    atomic.write_json(str(target.with_suffix('.json')), info, indent=1)
    written.append(target)
  if not written:
    raise ValueError(f'{clf_out}: no wave.keras or spec.keras with its JSON (train the classifiers first)')
  return written


def _flag_value(command: str, name: str):
  """The value of `name=...` in a recorded command line, or None."""
  for part in command.split():
    if part.startswith(name + '='):
      return part.split('=', 1)[1]
  return None
