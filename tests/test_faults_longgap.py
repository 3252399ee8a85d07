"""The long-gap builder and tables under faults (issue 25, items 5, 6, 9, 10): one line each,
nothing built from a damaged folder taken as complete."""

import io
import tarfile

import numpy as np
import pytest
from absl import flags

from audio_context_encoder.data import clip_dataset
from audio_context_encoder.longgap import config
from audio_context_encoder.evaluation import longgap_scoring
from experiments.longgap import tables as longgap_tables
from tests.test_longgap_download import sc09_archive
from tfrecords_tools import longgap_build, longgap_dataset, longgap_sources


def run(module, args):
  flags.FLAGS(['prog'] + args)
  try:
    return module.main([])
  finally:
    flags.FLAGS.unparse_flags()


@pytest.fixture
def sc09_root(tmp_path, monkeypatch):
  """The miniature SC09 archive unpacked, one of its WAVs undecodable; fetch_sc09 returns it."""
  root = tmp_path / 'sc'
  with tarfile.open(fileobj=io.BytesIO(sc09_archive())) as t:
    t.extractall(root)
  (root / 'seven' / 'b_nohash_0.wav').write_bytes(b'RIFF\x00\x00 not a wav')
  monkeypatch.setattr(longgap_sources, 'fetch_sc09', lambda download_dir: root)
  return root


def test_an_undecodable_clip_is_skipped_and_named(tmp_path, sc09_root, capsys):
  out = tmp_path / 'out'
  assert run(longgap_build, ['--dataset=sc09', f'--dest={out}']) == 0
  said = capsys.readouterr().out
  assert f'skipped: {sc09_root / "seven" / "b_nohash_0.wav"}: cannot decode audio' in said
  assert '1 file(s) skipped' in said
  assert clip_dataset.read_settings(out)['counts']['train']['clips'] == 3  # of 4 (a, b)


@pytest.mark.parametrize('settings', ['{"protocol": ', '[1, 2]'])
def test_a_damaged_settings_file_is_rebuilt_with_a_note(tmp_path, sc09_root, capsys, settings):
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'settings.json').write_text(settings)
  assert run(longgap_build, ['--dataset=sc09', f'--dest={out}']) == 0
  assert 'building it again' in capsys.readouterr().out
  assert clip_dataset.read_settings(out)['protocol'] == 'sc09'


def test_a_folder_missing_a_split_is_not_already_built(tmp_path, sc09_root, capsys):
  out = tmp_path / 'out'
  assert run(longgap_build, ['--dataset=sc09', f'--dest={out}']) == 0
  (out / 'clips-test.npy').unlink()
  capsys.readouterr()
  assert run(longgap_build, ['--dataset=sc09', f'--dest={out}']) == 0
  assert 'already built' not in capsys.readouterr().out and (out / 'clips-test.npy').exists()


def test_a_file_as_dest_is_one_line(tmp_path, capsys):
  (tmp_path / 'afile').write_text('x')
  assert run(longgap_build, ['--dataset=sc09', f'--dest={tmp_path / "afile"}']) == 2
  err = capsys.readouterr().err.strip()
  assert err == f'error: --dest={tmp_path / "afile"}: is a file, not a folder'


def built(tmp_path, n=3):
  t = np.arange(config.SC09.clip_samples) / config.SC09.sample_rate
  items = [longgap_dataset.ClipItem(split, str(i), f'{split}{i}', 'unit', f'c{i}',
                                    load=lambda f=300 + 50 * i: 0.3 * np.sin(2 * np.pi * f * t))
           for split in longgap_dataset.SPLITS for i in range(n)]
  longgap_dataset.write(items, tmp_path / 'sc09', config.SC09, 'unit')
  return tmp_path / 'sc09'


def test_damaged_files_of_a_built_folder_are_named(tmp_path):
  folder = built(tmp_path)
  data = (folder / 'clips-test.npy').read_bytes()
  (folder / 'clips-test.npy').write_bytes(data[:len(data) // 3])
  with pytest.raises(longgap_dataset.DatasetError, match='clips-test.npy: damaged or truncated'):
    clip_dataset.read_split(folder, 'test')
  (folder / 'settings.json').write_text('{"protocol": ')
  with pytest.raises(longgap_dataset.DatasetError, match='settings.json: damaged, not JSON'):
    clip_dataset.read_settings(folder)


def test_no_clip_above_the_gap_rms_is_named(tmp_path):
  folder = built(tmp_path)
  with pytest.raises(longgap_dataset.DatasetError, match='--lgt_min_gap_rms'):
    longgap_scoring.select(folder, 'test', 40, min_gap_rms=10.0)


@pytest.mark.parametrize('flag, message', [
    ('--lgt_sc09_clips=-1', '--lgt_sc09_clips=-1: must be 0 (all) or more'),
    ('--lgt_lpc_order=0', '--lgt_lpc_order=0: must be 1 or more'),
    ('--lgt_mask_seconds=0.1,x', '--lgt_mask_seconds=0.1,x: give lengths in seconds'),
    ('--lgt_out_dir={file}', 'is a file, not a folder'),
])
def test_bad_table_flags_are_refused_before_any_row(tmp_path, capsys, monkeypatch, flag, message):
  (tmp_path / 'afile').write_text('x')
  monkeypatch.setattr(longgap_tables, 'run', lambda: pytest.fail('rows were computed'))
  assert run(longgap_tables, [flag.format(file=tmp_path / 'afile')]) == 2
  err = capsys.readouterr().err.strip()
  assert message in err and '\n' not in err


def test_mask_lengths_in_any_float_notation(monkeypatch):
  flags.FLAGS(['prog', '--lgt_mask_seconds=2e-1,0.3'])
  try:
    assert longgap_tables.mask_seconds() == [0.2, 0.3]
  finally:
    flags.FLAGS.unparse_flags()
