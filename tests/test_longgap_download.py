"""SC09 and ESC-50 downloads from a local HTTP server: checksum, resume, official splits."""

import csv
import hashlib
import io
import tarfile
import zipfile

import numpy as np
import pytest
import soundfile as sf

from tests.test_data_download import Server
from tfrecords_tools import download, longgap_dataset, longgap_sources
from audio_context_encoder.data import clip_dataset
from audio_context_encoder.longgap import config


def wav_bytes(n=1600, rate=16000, value=0.1):
  buf = io.BytesIO()
  sf.write(buf, np.full(n, value, np.float32), rate, format='WAV', subtype='PCM_16')
  return buf.getvalue()


def sc09_archive():
  """Digits by speakers a..d, a non-digit word, the official lists (c valid, d test)."""
  files = {}
  for word in ('zero', 'seven', 'yes'):
    for spk in 'abcd':
      files[f'{word}/{spk}_nohash_0.wav'] = wav_bytes(12000 if spk == 'a' else 16000)
  files['validation_list.txt'] = b'zero/c_nohash_0.wav\nseven/c_nohash_0.wav\nyes/c_nohash_0.wav\n'
  files['testing_list.txt'] = b'zero/d_nohash_0.wav\nseven/d_nohash_0.wav\nyes/d_nohash_0.wav\n'
  files['LICENSE'] = b'CC-BY 4.0'
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode='w:gz') as t:
    for name, data in files.items():
      info = tarfile.TarInfo('./' + name)
      info.size = len(data)
      t.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def test_sc09_download_resumes_checks_and_splits(tmp_path):
  blob = sc09_archive()
  digest = hashlib.sha256(blob).hexdigest()
  with Server() as s:
    s.files['/sc.tgz'] = blob
    with pytest.raises(download.DownloadError, match='checksum'):
      longgap_sources.fetch_sc09(tmp_path / 'bad', s.url + 'sc.tgz', '0' * 64, progress=False)
    assert not list((tmp_path / 'bad').iterdir())  # the wrong archive was deleted
    s.log.clear()
    s.cut_once.add('/sc.tgz')
    root = longgap_sources.fetch_sc09(tmp_path, s.url + 'sc.tgz', digest, progress=False)
  assert s.log == [('/sc.tgz', None), ('/sc.tgz', f'bytes={len(blob) // 3}-')]  # resumed
  items = longgap_sources.sc09_items(root)
  assert {(i.origin, i.split) for i in items} == {
      (f'{w}/{k}_nohash_0.wav', sp) for w in ('zero', 'seven')
      for k, sp in zip('abcd', ('train', 'train', 'valid', 'test'))}
  counts = longgap_dataset.write(items, tmp_path / 'out', config.SC09, 'sc09',
                                 longgap_sources.licence_files('sc09', root))
  assert counts['train']['clips'] == 4 and counts['test']['groups'] == 1
  clips, rows = clip_dataset.read_split(tmp_path / 'out', 'train')
  assert clips.shape == (4, 16000) and (tmp_path / 'out' / 'LICENSE-speech-commands.txt').exists()
  short = [i for i, r in enumerate(rows) if r['group'] == 'sc09-a']
  assert (clips[short, 12000:] == 0).all()  # padded to 1 s
  np.testing.assert_allclose(clips[short, :100], 0.1, atol=1e-4)


def esc50_zip(n_fold5=400):
  rows, files = [], {}
  k = 0
  for fold in range(1, 6):
    for j in range(n_fold5 if fold == 5 else 2):
      name = f'{fold}-{1000 + k}-A-{k % 3}.wav'
      rows.append({'filename': name, 'fold': fold, 'target': k % 3, 'category': f'c{k % 3}',
                   'esc10': False, 'src_file': 1000 + k, 'take': 'A'})
      files[f'ESC-50-master/audio/{name}'] = wav_bytes(100, 44100, 0.05)
      k += 1
  text = io.StringIO()
  w = csv.DictWriter(text, list(rows[0]), lineterminator='\n')
  w.writeheader()
  w.writerows(rows)
  files['ESC-50-master/meta/esc50.csv'] = text.getvalue().encode()
  files['ESC-50-master/LICENSE'] = b'CC BY-NC 3.0'
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, 'w') as z:
    for name, data in files.items():
      z.writestr(name, data)
  return buf.getvalue()


def test_esc50_download_and_the_paper_split(tmp_path):
  blob = esc50_zip()
  with Server() as s:
    s.files['/esc.zip'] = blob
    root = longgap_sources.fetch_esc50(tmp_path, s.url + 'esc.zip',
                                       hashlib.sha256(blob).hexdigest(), progress=False)
  with pytest.raises(longgap_dataset.DatasetError, match='not the published ESC-50'):
    longgap_sources.esc50_items(root)
  items = longgap_sources.esc50_items(root, expect_full=False)
  splits = [i.split for i in items]
  assert splits == ['train'] * 8 + ['valid'] * 200 + ['test'] * 200
  assert items[8].origin.startswith('5-') and items[207].split == 'valid'
  assert items[0].load().shape == (50,)  # 100 samples at 44.1 kHz -> 22.05 kHz
  assert longgap_sources.licence_files('esc50', root)


def test_groups_in_two_splits_are_refused(tmp_path):
  item = lambda split, group: longgap_dataset.ClipItem(split, 'x', group, 's', 'o', lambda: np.zeros(10))
  with pytest.raises(longgap_dataset.DatasetError, match='two splits'):
    longgap_dataset.write([item('train', 'g1'), item('test', 'g1')], tmp_path, config.SC09, 't')
  with pytest.raises(longgap_dataset.DatasetError, match='build it first'):
    clip_dataset.read_split(tmp_path / 'none', 'test')
