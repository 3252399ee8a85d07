"""`build --runner=beam`: Beam's DirectRunner writes the local builder's shards and manifest."""

import io
import json
import subprocess
import sys
import zipfile

import pytest

from audio_context_encoder.config import DataConfig
from tests.test_data_build import ROOT, write_tracks
from tests.test_data_download import Server, sha1, tone_file
from tfrecords_tools import beam_build, sources, table1, writer

DATA = DataConfig()
# Timings differ between two runs of anything; the rest of the manifest and counts must not.
TIMING = {'build_seconds_total', 'last_run', 'build_seconds'}


def without_timing(d):
  return {k: v for k, v in d.items() if k not in TIMING}


def build_both(items, tmp_path, **kw):
  local = writer.build(items, tmp_path / 'local', 'folder', data=DATA, processes=1,
                       progress=False, **kw)
  beam = writer.build(items, tmp_path / 'beam', 'folder', data=DATA, processes=1,
                      progress=False, shard_writer=beam_build.shard_writer('DirectRunner'), **kw)
  return local, beam


def assert_same_folders(local, beam, tmp_path):
  """Same shards (bytes), same per-shard counts, same manifest and Table 1."""
  names = sorted(p.name for p in (tmp_path / 'local').glob('*.tfrecord'))
  assert names and names == sorted(p.name for p in (tmp_path / 'beam').glob('*.tfrecord'))
  for name in names:
    assert (tmp_path / 'local' / name).read_bytes() == (tmp_path / 'beam' / name).read_bytes(), name
    counts = [without_timing(json.loads((tmp_path / d / '.progress' / f'{name}.json').read_text()))
              for d in ('local', 'beam')]
    assert counts[0] == counts[1], name
  assert without_timing(local) == without_timing(beam)
  assert (table1.format_table(local, tmp_path / 'x') == table1.format_table(beam, tmp_path / 'x'))


def test_beam_writes_the_local_builders_shards_from_a_folder(tmp_path):
  folder = write_tracks(tmp_path / 'in', 9, seconds=1.5)
  (folder / 'broken.wav').write_bytes(b'RIFF not audio')  # skipped by name, by both
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  local, beam = build_both(items, tmp_path, tracks_per_shard=2)
  assert sum(s['records'] for s in local['splits'].values()) > 9 * 20
  assert len(beam['skipped_files']) == 1 and 'broken.wav' in beam['skipped_files'][0]
  assert_same_folders(local, beam, tmp_path)

  # Resume: a lost shard is the only one the pipeline writes again, to the same bytes.
  lost = tmp_path / 'beam' / 'train-00001-of-00004.tfrecord'
  before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / 'beam').glob('*.tfrecord')}
  lost.unlink()
  again = writer.build(items, tmp_path / 'beam', 'folder', data=DATA, processes=1, progress=False,
                       tracks_per_shard=2, shard_writer=beam_build.shard_writer('DirectRunner'))
  assert again['last_run']['shards_written'] == 1
  after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / 'beam').glob('*.tfrecord')}
  assert {n for n in after if after[n] != before.get(n)} == {lost.name}
  assert_same_folders(local, again, tmp_path)


@pytest.mark.slow
def test_beam_writes_the_local_builders_shards_from_an_fma_style_archive(tmp_path):
  """A miniature fma_small.zip (44.1 kHz stereo MP3) fetched from 127.0.0.1, built both ways."""
  small, meta = io.BytesIO(), io.BytesIO()
  ids = [f'{i:06d}' for i in (2, 5, 10, 140, 141, 190, 193, 194)]
  with zipfile.ZipFile(small, 'w') as z:
    for k, tid in enumerate(ids):
      z.writestr(f'fma_small/{tid[:3]}/{tid}.mp3', tone_file('MP3', 1.2, 44100, 2, 300 + 40 * k, k))
  with zipfile.ZipFile(meta, 'w') as z:
    z.writestr('fma_metadata/tracks.csv', 'track_id\n' + '\n'.join(ids))
  archives = {'fma_metadata.zip': meta.getvalue(), 'fma_small.zip': small.getvalue()}
  with Server() as s:
    s.files.update({f'/{k}': v for k, v in archives.items()})
    root = sources.fetch_fma(tmp_path / 'dl', s.url, {k: sha1(v) for k, v in archives.items()},
                             progress=False)
  items = sources.fma_items(root, DATA.music_split, DATA.split_seed)
  assert {i.split for i in items} == {'train', 'valid', 'test'}
  local, beam = build_both(items, tmp_path, tracks_per_shard=3)
  assert local['skipped_files'] == []
  assert_same_folders(local, beam, tmp_path)


@pytest.mark.slow
def test_build_cli_runner_beam(tmp_path):
  """The entry point with --runner=beam on two DirectRunner workers: Table 1 as the local run's."""
  folder = write_tracks(tmp_path / 'in', 5, seconds=1.2)
  outputs = {}
  for runner, extra in (('local', []), ('beam', ['--runner=beam', '--processes=2'])):
    p = subprocess.run([sys.executable, '-m', 'tfrecords_tools.build', '--source=folder',
                        f'--input={folder}', f'--out={tmp_path / runner}', '--tracks_per_shard=2',
                        *extra], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    outputs[runner] = p.stdout[p.stdout.index('| set'):].replace(str(tmp_path / runner), 'OUT')
  assert outputs['local'] == outputs['beam']
  for name in sorted(p.name for p in (tmp_path / 'local').glob('*.tfrecord')):
    assert (tmp_path / 'local' / name).read_bytes() == (tmp_path / 'beam' / name).read_bytes()


def test_beam_options_without_beam_and_beam_missing_are_one_line(tmp_path, monkeypatch):
  folder = write_tracks(tmp_path / 'in', 2)
  p = subprocess.run([sys.executable, '-m', 'tfrecords_tools.build', '--source=folder',
                      f'--input={folder}', f'--out={tmp_path / "o"}',
                      '--beam_option=--flink_master=x:1'], cwd=ROOT, capture_output=True,
                     text=True, timeout=120)
  assert p.returncode == 1 and 'Traceback' not in p.stderr
  assert '--beam_option: only with --runner=beam' in p.stderr + p.stdout
  assert not (tmp_path / 'o').exists()

  monkeypatch.setitem(sys.modules, 'apache_beam', None)  # as if the extra were not installed
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  with pytest.raises(writer.BuildError, match=r'pip install -e \.\[beam\]'):
    writer.build(items, tmp_path / 'b', 'folder', data=DATA, progress=False,
                 shard_writer=beam_build.shard_writer())


def test_directrunner_workers_follow_processes_unless_options_say():
  assert beam_build.pipeline_args('DirectRunner', 1, []) == ['--runner=DirectRunner']
  assert beam_build.pipeline_args('DirectRunner', 3, []) == [
      '--runner=DirectRunner', '--direct_num_workers=3', '--direct_running_mode=multi_processing']
  assert beam_build.pipeline_args('DirectRunner', 3, ['--direct_num_workers=1']) == [
      '--runner=DirectRunner', '--direct_num_workers=1']
  assert beam_build.pipeline_args('FlinkRunner', 3, ['--flink_master=h:8081']) == [
      '--runner=FlinkRunner', '--flink_master=h:8081']
