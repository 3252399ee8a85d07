"""tfrecords_tools.longgap_build: builds once, skips a complete folder, one-line errors."""

import tarfile
import io

from absl import flags

from audio_context_encoder.data import clip_dataset
from tests.test_longgap_download import sc09_archive
from tfrecords_tools import longgap_build, longgap_sources


def run(args):
  flags.FLAGS(['prog'] + args)
  try:
    return longgap_build.main([])
  finally:
    flags.FLAGS.unparse_flags()


def test_build_then_skip_then_errors(tmp_path, monkeypatch, capsys):
  root = tmp_path / 'sc'
  with tarfile.open(fileobj=io.BytesIO(sc09_archive())) as t:
    t.extractall(root)
  monkeypatch.setattr(longgap_sources, 'fetch_sc09', lambda download_dir: root)
  out = tmp_path / 'out'
  assert run(['--dataset=sc09', f'--dest={out}']) == 0
  assert clip_dataset.read_settings(out)['counts']['test']['clips'] == 2
  assert run(['--dataset=sc09', f'--dest={out}']) == 0
  assert 'already built' in capsys.readouterr().out
  (root / 'testing_list.txt').unlink()
  assert run(['--dataset=sc09', f'--dest={out}', '--rebuild']) == 1
  err = capsys.readouterr().err.strip()
  assert err.startswith('error:') and 'testing_list.txt' in err and '\n' not in err
  assert run(['--dataset=sc09']) == 2
