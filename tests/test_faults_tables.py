"""Tables under faults (issue 25): resumes keyed on what produced them, finished jobs skipped,
workers that die with the run, bad flags and output folders refused before the work."""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from audio_context_encoder.common import atomic
from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder import methods
from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.config import DataConfig
from tests.test_data_build import ROOT, write_tracks
from tests.test_faults_builds import ENV, alive, children, one_line, wait_for
from tfrecords_tools import writer


def dataset(tmp_path, name, n_tracks, seconds=1.0, seed=0, split='test'):
  folder = write_tracks(tmp_path / f'{name}-in', n_tracks, seconds=seconds, seed=seed)
  items = [writer.TrackItem(p.stem, str(p), split) for p in sorted(folder.iterdir())]
  out = tmp_path / name
  writer.build(items, out, 'folder', data=DataConfig(), progress=False, processes=1,
               tracks_per_shard=2)
  return str(out)


def interrupted_after(monkeypatch, batches):
  """evaluation.evaluate raises KeyboardInterrupt at call `batches` + 1 (a killed job)."""
  real, calls = evaluation.evaluate, []

  def evaluate(*a, **k):
    calls.append(1)
    if len(calls) > batches:
      raise KeyboardInterrupt
    return real(*a, **k)
  monkeypatch.setattr(evaluation, 'evaluate', evaluate)
  return lambda: monkeypatch.setattr(evaluation, 'evaluate', real)


def test_a_resume_made_on_another_dataset_is_not_mixed_in(tmp_path, monkeypatch, capsys):
  """The tester's case: killed on dataset A, re-run on B into the same file: B's values only."""
  a, b = dataset(tmp_path, 'A', 4, seed=0), dataset(tmp_path, 'B', 3, seed=1)
  state = str(tmp_path / 'job.partial.npz')
  restore = interrupted_after(monkeypatch, 2)
  with pytest.raises(KeyboardInterrupt):
    evaluation.evaluate_dataset(a, 'test', 'lpc', 64, batch_size=8, resume_path=state, progress=False)
  restore()
  assert os.path.exists(state)
  resumed = evaluation.evaluate_dataset(b, 'test', 'lpc', 64, batch_size=8, resume_path=state,
                                        progress=False)
  clean = evaluation.evaluate_dataset(b, 'test', 'lpc', 64, batch_size=8, progress=False)
  assert 'made with another dataset folder, dataset (manifest); starting this job again' in \
      capsys.readouterr().out
  np.testing.assert_array_equal(resumed['snr_ms'], clean['snr_ms'])
  np.testing.assert_array_equal(resumed['track_id'], clean['track_id'])


@pytest.fixture(scope='module')
def two_models(tmp_path_factory):
  """Two untrained small magnitude networks (different seeds) saved as .keras files."""
  import keras
  folder = tmp_path_factory.mktemp('models')
  paths = []
  for seed in (0, 1):
    keras.utils.set_random_seed(seed)
    cfg = config.get('small')
    path = str(folder / f'net{seed}.keras')
    model_lib.save_model(model_lib.build_model(cfg), cfg, path)
    paths.append(path)
  return paths


@pytest.mark.slow  # two networks evaluated on a few batches
def test_a_resume_made_with_another_model_is_not_mixed_in(tmp_path, monkeypatch, capsys, two_models):
  data = dataset(tmp_path, 'A', 3)
  state = str(tmp_path / 'job.partial.npz')
  net = lambda path: methods.Network(model=path, phase_method='pghi')
  restore = interrupted_after(monkeypatch, 2)
  with pytest.raises(KeyboardInterrupt):
    evaluation.evaluate_dataset(data, 'test', net(two_models[0]), 64, batch_size=8,
                                resume_path=state, progress=False)
  restore()
  resumed = evaluation.evaluate_dataset(data, 'test', net(two_models[1]), 64, batch_size=8,
                                        resume_path=state, progress=False)
  clean = evaluation.evaluate_dataset(data, 'test', net(two_models[1]), 64, batch_size=8,
                                      progress=False)
  assert 'made with another model file' in capsys.readouterr().out
  np.testing.assert_array_equal(resumed['snr_ms'], clean['snr_ms'])


def test_a_damaged_resume_file_is_ignored_with_a_note(tmp_path, capsys):
  data = dataset(tmp_path, 'A', 2)
  state = tmp_path / 'job.partial.npz'
  state.write_bytes(b'\x93NUMPY garbage')
  out = evaluation.evaluate_dataset(data, 'test', 'lpc', 64, batch_size=8, resume_path=str(state),
                                    progress=False)
  assert len(out['snr_ms']) > 0
  assert f'{state}: the saved progress was made with another no key or a damaged file' in \
      capsys.readouterr().out


def run_tables(*flags, timeout=300):
  return subprocess.run([sys.executable, '-m', 'experiments.tables', '--instruments_data=',
                         '--tones=0', '--nofigures', '--noestimate', '--perceptual_excerpts=0', '--methods=interp,lpc',
                         *flags], cwd=ROOT, env=ENV,
                        capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # subprocesses
def test_finished_jobs_are_skipped_under_their_key_and_redone_for_other_data(tmp_path):
  a, b = dataset(tmp_path, 'A', 4, seed=0), dataset(tmp_path, 'B', 2, seed=1)
  out = tmp_path / 'tables'
  first = run_tables(f'--music_data={a}', f'--out_dir={out}')
  assert first.returncode == 0, first.stderr[-2000:]
  table = (out / 'table2.md').read_text()
  again = run_tables(f'--music_data={a}', f'--out_dir={out}')
  assert again.returncode == 0, again.stderr[-2000:]
  assert again.stdout.count('done before') == 4  # lpc and interp, Tables 2 and 3
  assert (out / 'table2.md').read_text().split('- date:')[0] == table.split('- date:')[0]
  other = run_tables(f'--music_data={b}', f'--out_dir={out}')
  assert other.returncode == 0 and 'done before' not in other.stdout, other.stdout
  with np.load(out / 'per_segment' / 'music_lpc_64ms_test.npz') as z:
    tracks = set(z['track_id'].tolist())
  assert tracks == {'track00', 'track01'}  # B's two tracks, none of A's four
  assert '| Tracks | — | 4 | 4 |' in table  # music: no network, interp, LPC
  assert '| Tracks | — | 2 | 2 |' in (out / 'table2.md').read_text()


@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize('how', ['SIGKILL', 'SIGTERM'])
def test_table_workers_die_with_the_parent(tmp_path, how):
  data = dataset(tmp_path, 'A', 4, seconds=20.0)
  proc = subprocess.Popen([sys.executable, '-m', 'experiments.tables', f'--music_data={data}',
                           '--instruments_data=', '--tones=0', '--nofigures', '--noestimate',
                           '--perceptual_excerpts=0', '--methods=interp,lpc', '--workers=2',
                           f'--out_dir={tmp_path / "tables"}'],
                          cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
  workers = set()
  assert wait_for(lambda: len(workers.update(children(proc.pid)) or workers) >= 2, 90), workers
  proc.send_signal(getattr(signal, how))
  _, err = proc.communicate(timeout=60)
  assert wait_for(lambda: not alive(workers), 15), f'workers outlived the run: {alive(workers)}'
  if how == 'SIGTERM':
    last = err.strip().splitlines()[-1]
    assert proc.returncode == 143 and 'Traceback' not in err and last.startswith('terminated'), err


@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize('flag, message', [
    ('--batch_size=0', '--batch_size=0: must be 1 or more'),
    ('--max_segments=-5', '--max_segments=-5: must be 0'),
    ('--out_dir={file}', 'is a file, not a folder'),
])
def test_bad_table_flags_are_one_line_before_any_job(tmp_path, flag, message):
  data = dataset(tmp_path, 'A', 2)
  (tmp_path / 'afile').write_text('x')
  flags = [f.format(file=tmp_path / 'afile') for f in (flag,)]
  if not flag.startswith('--out_dir'):
    flags.append(f'--out_dir={tmp_path / "tables"}')
  r = run_tables(f'--music_data={data}', *flags)
  assert r.returncode == 2 and one_line(r.stderr) and message in r.stderr, r.stderr
  assert not (tmp_path / 'tables').exists()


def test_an_out_dir_where_only_per_segment_is_writable_is_refused_first(tmp_path, monkeypatch):
  from experiments import tables
  out = tmp_path / 'tables'
  (out / 'per_segment').mkdir(parents=True)
  real = os.open

  def refusing(path, *a, **k):
    if os.path.dirname(os.path.abspath(path)) == str(out):
      raise PermissionError(errno.EACCES, 'Permission denied', path)
    return real(path, *a, **k)
  monkeypatch.setattr(atomic.os, 'open', refusing)
  with pytest.raises(atomic.WriteError, match='permission denied'):
    tables.prepare_out_dir(str(out))
