"""Splits, the sharded writer (corrupt input, kill and resume, layouts) and the tf.data reader."""

import hashlib
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
import tensorflow as tf

from audio_context_encoder import config
from audio_context_encoder.context_encoder import features
from audio_context_encoder.config import DataConfig
from audio_context_encoder.context_encoder import reader
from tfrecords_tools import sources, splits, table1, writer

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = DataConfig()


def write_tracks(folder, n, seconds=1.0, rate=16000, seed=0):
  """n WAV tracks, tone + noise; 1 s at 16 kHz gives (16000 - 5120) // 512 + 1 = 22 windows."""
  rng = np.random.default_rng(seed)
  folder.mkdir(parents=True, exist_ok=True)
  t = np.arange(int(seconds * rate)) / rate
  for i in range(n):
    x = 0.4 * np.sin(2 * np.pi * (200 + 37 * i) * t) + 0.05 * rng.standard_normal(len(t))
    sf.write(folder / f'track{i:02d}.wav', x, rate, subtype='PCM_16')
  return folder


def build(folder, out, **kw):
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  kw.setdefault('tracks_per_shard', 2)
  kw.setdefault('processes', 1)
  return writer.build(items, out, 'folder', data=DATA, progress=False, **kw)


def read_all(out, split, gap_ms=64):
  ids, offsets = [], []
  for b in reader.evaluation_dataset(out, split, gap_ms, batch_size=64):
    ids += [t.decode() for t in b['track_id'].numpy()]
    offsets += b['offset'].numpy().tolist()
  return ids, offsets


def shard_hashes(out):
  return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(pathlib.Path(out).glob('*.tfrecord'))}


# ---- splits ----
def test_split_counts_and_determinism():
  assert splits.split_counts(41, (0.7, 0.2, 0.1)) == (29, 8, 4)
  assert sum(splits.split_counts(8000, (0.7, 0.2, 0.1))) == 8000
  ids = [f't{i}' for i in range(50)]
  a = splits.split_by_track(ids, (0.7, 0.2, 0.1), 0)
  assert a == splits.split_by_track(list(reversed(ids)), (0.7, 0.2, 0.1), 0)
  assert a != splits.split_by_track(ids, (0.7, 0.2, 0.1), 1)
  groups = {t: f'g{i % 5}' for i, t in enumerate(ids)}
  g = splits.split_by_track(ids, (0.7, 0.2, 0.1), 0, groups)
  for name in set(groups.values()):  # every instrument in every split: 7/2/1 of 10
    mine = [g[t] for t in ids if groups[t] == name]
    assert [mine.count(s) for s in splits.SPLITS] == [7, 2, 1]


def test_no_track_in_two_splits(tmp_path):
  write_tracks(tmp_path / 'in', 10)
  build(tmp_path / 'in', tmp_path / 'out')
  seen = {}
  for split in splits.SPLITS:
    ids, _ = read_all(tmp_path / 'out', split)
    seen[split] = set(ids)
    assert len(ids) == 22 * len(seen[split])  # every window of every track, in this split only
  assert [len(seen[s]) for s in splits.SPLITS] == [7, 2, 1]
  assert not (seen['train'] & seen['valid'] or seen['train'] & seen['test']
              or seen['valid'] & seen['test'])


# ---- robustness ----
def test_corrupt_file_is_skipped_and_named(tmp_path, capsys):
  folder = write_tracks(tmp_path / 'in', 9)
  (folder / 'zz_broken.wav').write_bytes(b'RIFF\x10\x00\x00\x00WAVEfmt ' + b'\x00' * 40)
  sf.write(folder / 'cut.ogg', np.sin(np.arange(48000) * 0.1) * 0.3, 16000)
  ogg = (folder / 'cut.ogg').read_bytes()
  (folder / 'cut.ogg').write_bytes(ogg[:len(ogg) // 2])  # a truncated download
  m = build(folder, tmp_path / 'out', tracks_per_shard=1)
  named = ' '.join(m['skipped_files'])
  assert len(m['skipped_files']) == 2 and 'zz_broken.wav' in named and 'cut.ogg' in named
  assert 'skipped: ' in capsys.readouterr().err  # reported while running (progress bar off)
  # Every planned shard exists and the 9 good tracks are complete (22 windows each).
  assert len(list((tmp_path / 'out').glob('*.tfrecord'))) == 11
  total = sum(len(read_all(tmp_path / 'out', s)[0]) for s in splits.SPLITS)
  assert total == 9 * 22 == sum(s['records'] for s in m['splits'].values())


@pytest.mark.slow
def test_killed_build_resumes_to_identical_shards(tmp_path):
  folder = write_tracks(tmp_path / 'in', 12, seconds=3.0)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', PYTHONPATH=str(ROOT))
  cmd = [sys.executable, '-m', 'tfrecords_tools.build', '--source=folder', f'--input={folder}',
         '--out', str(tmp_path / 'killed'), '--tracks_per_shard=1', '--processes=1',
         '--layout=float']
  proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)
  deadline = time.time() + 60
  while len(list((tmp_path / 'killed').glob('*.tfrecord'))) < 3 and time.time() < deadline:
    time.sleep(0.01)
  os.killpg(proc.pid, signal.SIGKILL)
  proc.wait()
  done_at_kill = len(list((tmp_path / 'killed').glob('*.tfrecord')))
  assert 3 <= done_at_kill < 12, 'the kill must land mid-build for this test to mean anything'
  assert subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True).returncode == 0
  items = sources.folder_items(folder, DATA.music_split, DATA.split_seed)
  # The uninterrupted build uses two worker processes: same bytes as one process, resumed.
  writer.build(items, tmp_path / 'clean', 'folder', 'float', DATA, tracks_per_shard=1,
               processes=2, progress=False)
  killed, clean = shard_hashes(tmp_path / 'killed'), shard_hashes(tmp_path / 'clean')
  assert len(clean) == 12 and killed == clean
  assert not list((tmp_path / 'killed').glob('.*.tmp')) + list((tmp_path / 'killed').glob('.tmp*'))


def test_resume_refuses_other_settings(tmp_path):
  write_tracks(tmp_path / 'in', 3)
  build(tmp_path / 'in', tmp_path / 'out')
  with pytest.raises(writer.BuildError, match='layout'):
    build(tmp_path / 'in', tmp_path / 'out', layout='float')


# ---- layouts and reader ----
def test_layouts_agree_and_reader_shapes(tmp_path):
  write_tracks(tmp_path / 'in', 4, seconds=1.0)
  for layout in ('compact', 'full'):
    build(tmp_path / 'in', tmp_path / layout, layout=layout)
  ev = {k: next(iter(reader.evaluation_dataset(tmp_path / k, 'train', 64, batch_size=8)))
        for k in ('compact', 'full')}
  np.testing.assert_array_equal(ev['compact']['offset'], ev['full']['offset'])
  np.testing.assert_allclose(ev['compact']['audio'], ev['full']['audio'], atol=0.5 / 32768 + 1e-9)
  # The stored segment is the track itself: compare with the WAV read independently.
  first = ev['full']['track_id'][0].numpy().decode()
  wav, _ = sf.read(tmp_path / 'in' / first, dtype='float32')
  off = int(ev['full']['offset'][0])
  np.testing.assert_allclose(ev['full']['segment'][0], wav[off:off + 5120], atol=1e-7)
  # Full layout: stored features equal the feature code applied to the stored audio.
  cfg = config.get('small')
  ctx_full, tgt_full = next(iter(reader.training_dataset(tmp_path / 'full', 'train', cfg, 8,
                                                         shuffle=False, repeat=False)))
  seg = ev['full']['segment']
  np.testing.assert_allclose(ctx_full, features.context_features(seg, cfg.signal), atol=1e-4)
  np.testing.assert_allclose(tgt_full[..., 0], features.gap_magnitude(seg, cfg.signal), atol=1e-4)
  # Compact layout: the same features computed in tf.data, within int16 rounding.
  ctx, tgt = next(iter(reader.training_dataset(tmp_path / 'compact', 'train', cfg, 8,
                                               shuffle=False, repeat=False)))
  assert ctx.shape == (8, 16, 257, 4) and tgt.shape == (8, 11, 257, 1)
  assert float(tf.reduce_max(tf.abs(tgt - tgt_full))) < 0.05
  cplx = config.get('small', output='complex')
  _, tgt_c = next(iter(reader.training_dataset(tmp_path / 'full', 'train', cplx, 8,
                                               shuffle=False, repeat=False)))
  assert tgt_c.shape == (8, 11, 257, 2)
  np.testing.assert_allclose(tf.norm(tgt_c, axis=-1), tgt_full[..., 0], atol=1e-3)


def test_training_dataset_shuffles_repeats_and_filters(tmp_path):
  folder = write_tracks(tmp_path / 'in', 3)
  x = np.zeros(16000)
  x[:2048] = x[3072:5120] = 0.3  # one window only, its 64 ms gap silent, 48 ms gap silent too
  sf.write(folder / 'quiet.wav', x[:5120], 16000, subtype='FLOAT')
  m = build(folder, tmp_path / 'out')
  assert sum(s['windows'] for s in m['splits'].values()) == 3 * 22 + 1
  assert sum(s['records'] for s in m['splits'].values()) == 3 * 22  # the silent gap dropped
  cfg = config.get('small')
  n_train = m['splits']['train']['kept_64']
  ds = reader.training_dataset(tmp_path / 'out', 'train', cfg, 16, seed=3)
  batches = [b for _, b in zip(range(2 * n_train // 16 + 2), ds)]  # more than one epoch
  assert all(t.shape == (16, 11, 257, 1) for _, t in batches)
  a = next(iter(reader.training_dataset(tmp_path / 'out', 'train', cfg, 16, seed=3)))[1]
  b = next(iter(reader.training_dataset(tmp_path / 'out', 'train', cfg, 16, seed=4)))[1]
  ordered = next(iter(reader.training_dataset(tmp_path / 'out', 'train', cfg, 16, shuffle=False)))
  assert not np.allclose(a, b) and not np.allclose(a, ordered[1])


def test_table1_and_missing_dataset_message(tmp_path):
  write_tracks(tmp_path / 'in', 10)
  m = build(tmp_path / 'in', tmp_path / 'out')
  text = table1.format_table(m, 'out')
  assert '| music training | 7 |' in text and '| 5.2M | 70.0 |' in text
  assert '| 154 | 70.0 |' in text  # 7 tracks x 22 windows, 70 % of 220
  with pytest.raises(reader.DatasetError, match='manifest.json'):
    reader.evaluation_dataset(tmp_path / 'nothing', 'test')
  saved = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
  assert saved['splits'] == m['splits'] and saved['audio_dtype'] == 'int16'
