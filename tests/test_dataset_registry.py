"""The dataset registry (tfrecords_tools/sources.py): a new dataset is one module with one
`register` call; the builder finds it with --source_module and builds it like the paper's."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.test_data_build import ROOT
from tfrecords_tools import longgap_build, sources  # noqa: F401 (longgap_build registers the clip sources)

# A user's dataset: sine tones it writes itself (its "download"), split by file like a folder.
TONES = textwrap.dedent('''
    """Pure tones as a dataset: one file, one registration."""
    import pathlib

    import numpy as np
    import soundfile as sf

    from tfrecords_tools import sources


    def fetch(request):
      root = pathlib.Path(request.download_dir) / 'tones'
      root.mkdir(parents=True, exist_ok=True)
      t = np.arange(3 * 16000) / 16000
      for k in range(10):
        sf.write(root / f'tone{k:02d}.wav', 0.3 * np.sin(2 * np.pi * (220 + 40 * k) * t), 16000)
      (root / 'LICENSE.txt').write_text('tones: public domain')
      return root


    sources.register(sources.Source(
        'tones', 'ten 3 s sine tones', fetch,
        lambda root, request: sources.folder_items(root, request.fractions, request.seed),
        tracks_per_shard=2, licence_files=lambda root: [(root / 'LICENSE.txt', 'LICENSE-tones.txt')],
        attribution=lambda root: '# Attribution\\n\\nTones made by the test.\\n'))
''')


def test_the_registered_sources():
  assert sources.names() == ('fma', 'nsynth', 'folder', 'demo-music', 'demo-instruments')
  assert sources.names(sources.CLIPS) == ('sc09', 'esc50', 'sc09-standin', 'esc50-standin')
  assert sources.get('nsynth').tracks_per_shard == 100 and sources.get('demo-music').max_seconds == 30
  assert sources.get('esc50', sources.CLIPS).protocol == 'esc50'
  with pytest.raises(sources.BuildError, match="unknown source 'tones'; choose one of fma, nsynth"):
    sources.get('tones')


def test_a_new_dataset_module_is_built_by_name(tmp_path):
  (tmp_path / 'tones_dataset.py').write_text(TONES)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONPATH=f'{tmp_path}{os.pathsep}{ROOT}')
  build = lambda *flags: subprocess.run(
      [sys.executable, '-m', 'tfrecords_tools.build', f'--download_dir={tmp_path / "dl"}',
       '--processes=1', *flags], cwd=ROOT, env=env, capture_output=True, text=True)
  refused = build('--source=tones', f'--out={tmp_path / "out"}')
  assert refused.returncode == 1 and 'unknown source' in refused.stderr
  assert not (tmp_path / 'out').exists() and not (tmp_path / 'dl').exists()
  done = build('--source_module=tones_dataset', '--source=tones', f'--out={tmp_path / "out"}')
  assert done.returncode == 0, done.stderr
  manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
  assert manifest['source'] == 'tones'
  tracks = {s: m['tracks'] for s, m in manifest['splits'].items()}
  assert sum(tracks.values()) == 10 and tracks['train'] == 7
  assert sum(m['records'] for m in manifest['splits'].values()) > 0
  shards = list((tmp_path / 'out').glob('*.tfrecord'))
  assert len(shards) == sum(-(-n // 2) for n in tracks.values())  # its 2 tracks per shard
  assert (tmp_path / 'out' / 'LICENSE-tones.txt').read_text() == 'tones: public domain'
  assert 'Tones made by the test' in (tmp_path / 'out' / 'ATTRIBUTION.md').read_text()
  missing = build('--source_module=no_such_module', '--source=tones', f'--out={tmp_path / "x"}')
  assert missing.returncode == 1 and "--source_module=no_such_module: cannot be imported" in missing.stderr
