"""Builds under faults (issue 25): kills, damaged shards, bad flags and folders, full disks."""

import errno
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_io
from audio_context_encoder.common import errors
from audio_context_encoder.evaluation import evaluation
from tests.test_data_build import DATA, ROOT, build, shard_hashes, write_tracks
from tfrecords_tools import sources, writer

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONPATH=str(ROOT))


def run_build(*flags, timeout=120):
  return subprocess.run([sys.executable, '-m', 'tfrecords_tools.build', *flags], cwd=ROOT, env=ENV,
                        capture_output=True, text=True, timeout=timeout)


def one_line(err: str) -> bool:
  err = err.strip()
  return len(err.splitlines()) == 1 and 'Traceback' not in err


def children(pid: int) -> set:
  """Pids whose parent is `pid` (from /proc)."""
  found = set()
  for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
    try:
      fields = stat.read_text().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == pid:
      found.add(int(stat.parent.name))
  return found


def alive(pids) -> set:
  out = set()
  for pid in pids:
    try:
      state = pathlib.Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError:
      continue
    if state != 'Z':
      out.add(pid)
  return out


def wait_for(condition, seconds):
  deadline = time.monotonic() + seconds
  while time.monotonic() < deadline:
    if condition():
      return True
    time.sleep(0.05)
  return condition()


# ---- item 3: workers die with the build ----

@pytest.mark.slow  # subprocesses that load TensorFlow
@pytest.mark.parametrize('how', ['SIGKILL', 'SIGTERM'])
def test_build_workers_die_with_the_parent(tmp_path, how):
  folder = write_tracks(tmp_path / 'in', 16, seconds=4.0)
  proc = subprocess.Popen([sys.executable, '-m', 'tfrecords_tools.build', '--source=folder',
                           f'--input={folder}', f'--out={tmp_path / "ds"}', '--processes=2',
                           '--tracks_per_shard=1', '--layout=full'],
                          cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
  workers = set()
  assert wait_for(lambda: len(workers.update(children(proc.pid)) or workers) >= 2, 60), workers
  proc.send_signal(getattr(signal, how))
  _, err = proc.communicate(timeout=60)
  assert wait_for(lambda: not alive(workers), 15), f'workers outlived the build: {alive(workers)}'
  if how == 'SIGTERM':
    last = err.strip().splitlines()[-1]  # after the progress bar's lines
    assert proc.returncode == 143 and 'Traceback' not in err and last.startswith('terminated'), err


# ---- item 4: damaged shards are written again; a damaged record names its shard ----

@pytest.mark.parametrize('damage', ['overwrite 14 bytes', 'truncate'])
def test_a_damaged_finished_shard_is_written_again(tmp_path, damage):
  folder = write_tracks(tmp_path / 'in', 6)
  build(folder, tmp_path / 'ds')
  before = shard_hashes(tmp_path / 'ds')
  shard = sorted((tmp_path / 'ds').glob('train-*.tfrecord'))[0]
  data = bytearray(shard.read_bytes())
  if damage == 'truncate':
    data = data[:len(data) // 3]
  else:
    data[len(data) // 2:len(data) // 2 + 14] = b'\x00' * 14
  shard.write_bytes(bytes(data))
  manifest = build(folder, tmp_path / 'ds')
  assert manifest['last_run']['shards_written'] == 1
  assert shard_hashes(tmp_path / 'ds') == before
  assert manifest['bytes'] == sum(p.stat().st_size for p in (tmp_path / 'ds').glob('*.tfrecord'))


def test_a_changed_input_file_rewrites_its_shard(tmp_path):
  folder = write_tracks(tmp_path / 'in', 6)
  build(folder, tmp_path / 'ds')
  write_tracks(tmp_path / 'other', 6, seed=5)
  os.replace(tmp_path / 'other' / 'track03.wav', folder / 'track03.wav')  # same name, new audio
  manifest = build(folder, tmp_path / 'ds')
  assert manifest['last_run']['shards_written'] == 1
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  writer.build(items, tmp_path / 'clean', 'folder', data=DATA, progress=False,
               tracks_per_shard=2, processes=1)
  assert shard_hashes(tmp_path / 'ds') == shard_hashes(tmp_path / 'clean')


def test_a_damaged_record_met_by_the_tables_names_its_shard(tmp_path):
  folder = write_tracks(tmp_path / 'in', 6)
  build(folder, tmp_path / 'ds')
  shard = sorted((tmp_path / 'ds').glob('train-*.tfrecord'))[0]
  data = bytearray(shard.read_bytes())
  data[len(data) // 2:len(data) // 2 + 14] = b'\x00' * 14
  shard.write_bytes(bytes(data))
  with pytest.raises(errors.DatasetError, match=f'{shard}: damaged shard'):
    evaluation.evaluate_dataset(str(tmp_path / 'ds'), 'train', 'lpc', 64, batch_size=8,
                                progress=False)


# ---- items 5-7 and 10: bad flags and folders, one line, nothing poisoned ----

@pytest.mark.slow  # subprocesses
@pytest.mark.parametrize('flag, message', [
    ('--max_tracks=-1', '--max_tracks=-1: must be 0'),
    ('--max_seconds=-5', '--max_seconds=-5.0: must be 0'),
    ('--processes=-2', '--processes=-2: must be 0'),
    ('--tracks_per_shard=-1', '--tracks_per_shard=-1: must be 0'),
])
def test_out_of_range_build_flags_are_refused_before_anything_is_written(tmp_path, flag, message):
  folder = write_tracks(tmp_path / 'in', 3)
  r = run_build('--source=folder', f'--input={folder}', f'--out={tmp_path / "ds"}', flag)
  assert r.returncode == 1 and one_line(r.stderr) and message in r.stderr, r.stderr
  assert not (tmp_path / 'ds').exists()
  r = run_build('--source=folder', f'--input={folder}', f'--out={tmp_path / "ds"}', '--processes=1')
  assert r.returncode == 0, r.stderr  # the corrected run is not refused


def test_a_file_as_out_and_a_full_disk_are_one_line_before_the_work(tmp_path, monkeypatch):
  folder = write_tracks(tmp_path / 'in', 3)
  (tmp_path / 'afile').write_text('x')
  with pytest.raises(writer.BuildError, match='is a file, not a folder'):
    build(folder, tmp_path / 'afile')
  usage = atomic.shutil.disk_usage
  monkeypatch.setattr(atomic.shutil, 'disk_usage', lambda p: usage(p)._replace(free=1000))
  with pytest.raises(atomic.WriteError, match='not enough free space'):
    build(folder, tmp_path / 'ds')
  assert not list((tmp_path / 'ds').glob('*.tfrecord'))
  assert not (tmp_path / 'ds' / '.progress' / 'settings.json').exists()


def test_a_disk_filling_during_a_shard_is_one_line(tmp_path, monkeypatch):
  """TFRecordWriter reports a full disk as ResourceExhaustedError: a WriteError, no temp file."""
  import tensorflow as tf
  folder = write_tracks(tmp_path / 'in', 3)
  real = tf.io.TFRecordWriter

  class FullDisk(real):
    def write(self, record):
      raise tf.errors.ResourceExhaustedError(None, None, 'No space left on device')
  monkeypatch.setattr(tf.io, 'TFRecordWriter', FullDisk)
  with pytest.raises(atomic.WriteError, match='the disk is full'):
    build(folder, tmp_path / 'ds')
  assert not [p for p in (tmp_path / 'ds').iterdir() if p.name.startswith(atomic.PREFIX)]


@pytest.mark.slow  # a subprocess
def test_not_writable_out_is_one_line(tmp_path):
  folder = write_tracks(tmp_path / 'in', 3)
  ro = tmp_path / 'ro'
  ro.mkdir()
  code = ('import errno, os, sys\n'
          'from audio_context_encoder.common import atomic\n'
          'real = os.open\n'
          f'def refusing(path, *a, **k):\n'
          f'  if str(path).startswith({str(ro)!r}):\n'
          '    raise PermissionError(errno.EACCES, "Permission denied", path)\n'
          '  return real(path, *a, **k)\n'
          'atomic.os.open = refusing\n'
          'from absl import app\n'
          'from tfrecords_tools import build\n'
          'sys.argv = ["build"] + sys.argv[1:]\n'
          'app.run(build.main)\n')
  r = subprocess.run([sys.executable, '-c', code, '--source=folder', f'--input={folder}',
                      f'--out={ro / "ds"}'], cwd=ROOT, env=ENV, capture_output=True, text=True,
                     timeout=120)
  assert r.returncode == 1 and one_line(r.stderr) and 'permission denied' in r.stderr, r.stderr


def test_a_build_that_keeps_nothing_leaves_nothing(tmp_path):
  folder = tmp_path / 'in'
  folder.mkdir()
  (folder / 'bad.wav').write_bytes(b'not audio')
  with pytest.raises(writer.BuildError, match='nothing kept'):
    build(folder, tmp_path / 'ds')
  assert not (tmp_path / 'ds').exists()
  write_tracks(folder, 3)  # adding good files: the next run builds
  assert build(folder, tmp_path / 'ds')['splits']['train']['records'] > 0


def test_out_with_a_tilde_is_expanded(tmp_path, monkeypatch):
  folder = write_tracks(tmp_path / 'in', 3)
  monkeypatch.setenv('HOME', str(tmp_path / 'home'))
  (tmp_path / 'home').mkdir()
  build(folder, '~/ds')
  assert (tmp_path / 'home' / 'ds' / 'manifest.json').exists()


def test_a_truncated_wav_is_reported(tmp_path):
  folder = write_tracks(tmp_path / 'in', 3, seconds=3.0)
  wav = folder / 'track01.wav'
  wav.write_bytes(wav.read_bytes()[:len(wav.read_bytes()) // 3])
  manifest = build(folder, tmp_path / 'ds')
  assert [w for w in manifest['warnings'] if str(wav) in w and 'truncated' in w]


def test_unreadable_files_and_folders_are_named(tmp_path, monkeypatch, capsys):
  folder = write_tracks(tmp_path / 'in', 3)
  (folder / 'sub').mkdir()
  write_tracks(folder / 'sub', 1)
  locked = folder / 'track00.wav'
  real_scandir, real_open = os.scandir, open

  def scandir(path='.'):
    if str(path) == str(folder / 'sub'):
      raise PermissionError(errno.EACCES, 'Permission denied', str(path))
    return real_scandir(path)

  def refusing_open(path, *a, **k):
    if str(path) == str(locked):
      raise PermissionError(errno.EACCES, 'Permission denied', str(path))
    return real_open(path, *a, **k)
  monkeypatch.setattr(os, 'scandir', scandir)
  monkeypatch.setattr(audio_io, 'open', refusing_open, raising=False)
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  assert 'sub' not in ' '.join(i.path for i in items)
  assert f'{folder / "sub"}: cannot be read (permission denied)' in capsys.readouterr().err
  manifest = writer.build(items, tmp_path / 'ds', 'folder', data=DATA, progress=False,
                          tracks_per_shard=2, processes=1)
  assert f'{locked}: cannot be read (permission denied)' in manifest['skipped_files']
