"""Issue 9, case 8 and resumes: empty or malformed datasets refused before anything is created,
a training resume that would change the run refused."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from audio_context_encoder.common import errors
from audio_context_encoder.context_encoder import training

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_module(args, timeout=300):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  return subprocess.run([sys.executable, '-m'] + args, cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=timeout)


def test_build_that_keeps_no_segment_is_an_error(tmp_path):
  """Case 8: a build from only unreadable or too short files used to exit 0, empty."""
  from tfrecords_tools import writer
  folder = tmp_path / 'in'
  folder.mkdir()
  (folder / 'bad.wav').write_bytes(b'not audio')
  soundfile.write(str(folder / 'short.wav'), np.full(2000, 0.3), 16000)
  items = [writer.TrackItem(p.name, str(p), 'train') for p in sorted(folder.iterdir())]
  with pytest.raises(writer.BuildError, match='no segment kept from 2 file'):
    writer.build(items, tmp_path / 'ds', 'folder', progress=False, processes=1)
  assert not (tmp_path / 'ds' / 'manifest.json').exists()


@pytest.mark.slow
@pytest.mark.parametrize('manifest', ['{}', 'not json', 'empty splits'])
def test_training_on_an_empty_or_malformed_dataset_is_one_line(tmp_path, manifest):
  data = tmp_path / 'ds'
  data.mkdir()
  if manifest == 'empty splits':
    counts = {'tracks': 0, 'kept_64': 0, 'kept_48': 0, 'records': 0}
    manifest = json.dumps({'layout': 'compact', 'audio_dtype': 'int16', 'segment_length': 5120,
                           'margin': 256, 'record_length': 5632,
                           'splits': {s: counts for s in ('train', 'valid', 'test')}})
  (data / 'manifest.json').write_text(manifest)
  runs = tmp_path / 'runs'
  r = run_module(['experiments.train', f'--data_dir={data}', f'--runs_dir={runs}', '--preset=small'])
  err = r.stderr.strip()
  assert r.returncode != 0 and len(err.splitlines()) == 1 and 'Traceback' not in err, err
  assert 'manifest' in err or 'holds no' in err
  assert not runs.exists()


def test_resume_with_other_steps_or_drop_step_is_refused(tmp_path):
  from tests.test_training_helpers import small_config
  run = lambda **schedule: small_config(2, 2, **{'steps': 100, 'lr_drop_step': 80, **schedule})
  run_dir = str(tmp_path)
  training.check_run_config(run_dir, run())
  training.check_run_config(run_dir, run())  # same run (how it runs, e.g. a time budget, is not in it)
  with pytest.raises(errors.UserError, match=r'--steps=100 \(now 200\)'):
    training.check_run_config(run_dir, run(steps=200))
  with pytest.raises(errors.UserError, match=r'--lr_drop_step=80 \(now 50\)'):
    training.check_run_config(run_dir, run(lr_drop_step=50))
  # A run folder from before the schedule was stored records it on its next resume.
  path = os.path.join(run_dir, 'config.json')
  saved = json.load(open(path))
  for key in ('steps', 'lr_drop_step', 'seed'):
    del saved['train'][key]
  json.dump(saved, open(path, 'w'))
  training.check_run_config(run_dir, run(steps=300))
  assert json.load(open(path))['train']['steps'] == 300
  # ...and one that kept it apart, as 'run_options', is still held to it.
  saved = json.load(open(path))
  saved['run_options'] = {k: saved['train'].pop(k) for k in ('steps', 'lr_drop_step', 'seed')}
  json.dump(saved, open(path, 'w'))
  with pytest.raises(errors.UserError, match=r'--steps=300 \(now 100\)'):
    training.check_run_config(run_dir, run())


def random_shard_dataset(folder):
  """A dataset folder whose manifest is right and whose shards are random bytes."""
  folder.mkdir()
  counts = {'tracks': 1, 'kept_64': 10, 'kept_48': 10, 'records': 10}
  (folder / 'manifest.json').write_text(json.dumps(
      {'layout': 'compact', 'audio_dtype': 'int16', 'segment_length': 5120, 'margin': 256,
       'record_length': 5632, 'splits': {s: counts for s in ('train', 'valid', 'test')}}))
  rng = np.random.default_rng(0)
  for split in ('train', 'valid', 'test'):
    (folder / f'{split}-00000-of-00001.tfrecord').write_bytes(rng.bytes(20000))
  return folder


@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize('flags, message', [
    (['--batch_size=-4'], '--batch_size=-4: must be'),
    (['--steps=-5'], '--steps=-5: must be'),
    (['--time_budget_s=-1'], '--time_budget_s=-1.0: must be'),
    (['--name=../../x'], 'must be a folder name inside --runs_dir'),
    (['--runs_dir={file}'], 'is a file, not a folder'),
    (['--runs_dir={file}/sub'], 'is a file, not a folder'),
    ([], 'damaged shard'),  # the dataset's random-byte shards
])
def test_bad_training_requests_are_one_line_and_create_nothing(tmp_path, flags, message):
  data = random_shard_dataset(tmp_path / 'ds')
  (tmp_path / 'afile').write_text('x')
  before = sorted(str(p) for p in tmp_path.rglob('*'))
  flags = [f.format(file=tmp_path / 'afile') for f in flags]
  if not any(f.startswith('--runs_dir') for f in flags):
    flags.append(f'--runs_dir={tmp_path / "a" / "runs"}')
  r = run_module(['experiments.train', f'--data_dir={data}', '--preset=small'] + flags)
  err = r.stderr.strip()
  assert r.returncode != 0 and len(err.splitlines()) == 1 and 'Traceback' not in err, err
  assert message in err, err
  assert sorted(str(p) for p in tmp_path.rglob('*')) == before
  assert not (tmp_path.parent / 'x').exists()
