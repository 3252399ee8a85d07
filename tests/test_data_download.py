"""Downloads from a local HTTP server on 127.0.0.1: resume, checksum, unpack, build, read back."""

import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile

import numpy as np
import pytest
import soundfile as sf

from audio_context_encoder.config import DataConfig
from audio_context_encoder.audio import audio_io
from audio_context_encoder.context_encoder import reader
from tfrecords_tools import download, sources, splits, writer


class Server:
  """Serves `files` (path -> bytes) with HTTP Range support; can cut a response short once."""

  def __init__(self):
    self.files, self.cut_once, self.log = {}, set(), []
    outer = self

    class Handler(http.server.BaseHTTPRequestHandler):
      def log_message(self, *args):
        pass

      def do_GET(self):
        data = outer.files.get(self.path)
        rng = self.headers.get('Range')
        outer.log.append((self.path, rng))
        if data is None:
          self.send_error(404)
          return
        start = int(rng.split('=')[1].split('-')[0]) if rng else 0
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
          self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.path in outer.cut_once:  # the connection drops a third of the way in
          outer.cut_once.discard(self.path)
          self.wfile.write(body[:len(body) // 3])
          self.wfile.flush()
          self.close_connection = True
          return
        self.wfile.write(body)

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
    self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

  def __enter__(self):
    self.thread.start()
    return self

  def __exit__(self, *exc):
    self.httpd.shutdown()
    self.httpd.server_close()


def sha1(b):
  return hashlib.sha1(b).hexdigest()


def test_download_resumes_after_cut_connection(tmp_path, rng):
  blob = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
  with Server() as s:
    s.files['/f.bin'] = blob
    s.cut_once.add('/f.bin')
    out = download.download(s.url + 'f.bin', tmp_path / 'f.bin', sha1(blob), progress=False,
                            retry_wait=0)
  assert out.read_bytes() == blob
  assert s.log == [('/f.bin', None), ('/f.bin', 'bytes=100000-')]  # the rest only
  assert not (tmp_path / 'f.bin.part').exists()


def test_download_continues_a_part_file_from_an_earlier_run(tmp_path, rng):
  blob = rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
  (tmp_path / 'f.bin.part').write_bytes(blob[:12345])
  with Server() as s:
    s.files['/f.bin'] = blob
    download.download(s.url + 'f.bin', tmp_path / 'f.bin', sha1(blob), progress=False)
    assert s.log == [('/f.bin', 'bytes=12345-')]
    # Already there with the right checksum: no request at all.
    download.download(s.url + 'f.bin', tmp_path / 'f.bin', sha1(blob), progress=False)
    assert len(s.log) == 1
  assert (tmp_path / 'f.bin').read_bytes() == blob


def test_download_refuses_wrong_checksum(tmp_path):
  with Server() as s:
    s.files['/f.bin'] = b'not the published file' * 100
    with pytest.raises(download.DownloadError, match='checksum .* does not match'):
      download.download(s.url + 'f.bin', tmp_path / 'f.bin', '0' * 40, progress=False)
    with pytest.raises(download.DownloadError, match='404'):
      download.download(s.url + 'missing.bin', tmp_path / 'm.bin', None, progress=False)
  assert not (tmp_path / 'f.bin').exists() and not (tmp_path / 'f.bin.part').exists()


def test_unpack_refuses_paths_outside_and_bad_archives(tmp_path):
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, 'w') as z:
    z.writestr('../evil.txt', 'x')
  (tmp_path / 'evil.zip').write_bytes(buf.getvalue())
  with pytest.raises(download.DownloadError, match='outside'):
    download.unpack(tmp_path / 'evil.zip', tmp_path / 'evil')
  (tmp_path / 'junk.zip').write_bytes(b'junk')
  with pytest.raises(download.DownloadError, match='not a zip or tar'):
    download.unpack(tmp_path / 'junk.zip', tmp_path / 'junk')
  assert not (tmp_path / 'evil').exists() and not (tmp_path.parent / 'evil.txt').exists()


def tone_file(fmt, seconds, rate, channels, f0, seed):
  t = np.arange(int(seconds * rate)) / rate
  x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.02 * np.random.default_rng(seed).standard_normal(len(t))
  buf = io.BytesIO()
  sf.write(buf, np.stack([x] * channels, axis=1), rate, format=fmt)
  return buf.getvalue()


def read_back(out, split):
  ids, segs, offs = [], [], []
  for b in reader.evaluation_dataset(out, split, 64, 64):
    ids += [t.decode() for t in b['track_id'].numpy()]
    segs.append(b['segment'].numpy())
    offs += b['offset'].numpy().tolist()
  return ids, (np.concatenate(segs) if segs else np.zeros((0, 5120))), offs


@pytest.mark.slow
def test_fma_like_download_build_read_back(tmp_path):
  """A miniature fma_small.zip (44.1 kHz stereo MP3) + fma_metadata.zip, end to end."""
  small, meta = io.BytesIO(), io.BytesIO()
  ids = [f'{i:06d}' for i in (2, 5, 10, 140, 141, 190, 193, 194, 197, 200)]
  with zipfile.ZipFile(small, 'w') as z:
    for k, tid in enumerate(ids):
      z.writestr(f'fma_small/{tid[:3]}/{tid}.mp3', tone_file('MP3', 1.5, 44100, 2, 300 + 40 * k, k))
    z.writestr('fma_small/README.txt', 'miniature')
  with zipfile.ZipFile(meta, 'w') as z:
    z.writestr('fma_metadata/tracks.csv', 'track_id\n' + '\n'.join(ids))
    z.writestr('fma_metadata/README.txt', 'metadata')
  archives = {'fma_metadata.zip': meta.getvalue(), 'fma_small.zip': small.getvalue()}
  with Server() as s:
    s.files.update({f'/{k}': v for k, v in archives.items()})
    s.cut_once.add('/fma_small.zip')
    root = sources.fetch_fma(tmp_path / 'dl', s.url, {k: sha1(v) for k, v in archives.items()},
                             progress=False)
    assert ('/fma_small.zip', None) in s.log and any(r and r[1] for r in s.log)  # resumed
  items = sources.fma_items(root, (0.7, 0.2, 0.1), 0)
  assert sorted(i.track_id for i in items) == ids
  m = writer.build(items, tmp_path / 'fma', 'fma', data=DataConfig(), tracks_per_shard=3,
                   processes=1, progress=False)
  assert m['skipped_files'] == []
  by_split = {i.track_id: i.split for i in items}
  total = 0
  for split in splits.SPLITS:
    got, segs, offs = read_back(tmp_path / 'fma', split)
    assert {by_split[t] for t in got} <= {split}
    total += len(got)
    # Each stored segment equals the decoded, resampled track at its offset (int16 rounding).
    for t, seg, off in list(zip(got, segs, offs))[::7]:
      path = next(i.path for i in items if i.track_id == t)
      np.testing.assert_allclose(seg, audio_io.load(path)[off:off + 5120], atol=1 / 32768)
  assert total == sum(v['records'] for v in m['splits'].values()) > 10 * 20


def test_nsynth_like_download_keeps_official_split(tmp_path):
  buf = io.BytesIO()
  archives = {}
  for split in splits.SPLITS:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as t:
      notes = {}
      for k in range(2 if split != 'train' else 4):
        name = f'{split}_inst_{k:03d}-060-100'
        data = tone_file('WAV', 4.0, 16000, 1, 262 + 50 * k, k)
        info = tarfile.TarInfo(f'nsynth-{split}/audio/{name}.wav')
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        notes[name] = {'pitch': 60}
      js = json.dumps(notes).encode()
      info = tarfile.TarInfo(f'nsynth-{split}/examples.json')
      info.size = len(js)
      t.addfile(info, io.BytesIO(js))
    archives[f'nsynth-{split}.jsonwav.tar.gz'] = buf.getvalue()
  with Server() as s:
    s.files.update({f'/{k}': v for k, v in archives.items()})
    root = sources.fetch_nsynth(tmp_path / 'dl', s.url, {k: None for k in archives},
                                progress=False)
  items = sources.nsynth_items(root)
  assert [i.split for i in items].count('train') == 4
  writer.build(items, tmp_path / 'ns', 'nsynth', tracks_per_shard=2, processes=1, progress=False)
  for split in splits.SPLITS:
    got, _, _ = read_back(tmp_path / 'ns', split)
    assert got and all(t.startswith(split + '_') for t in got)
    # 4 s notes: (64000 - 5120) / 512 + 1 = 116 windows each, none silent.
    assert len(got) == 116 * (4 if split == 'train' else 2)


def test_a_debian_package_is_fetched_with_its_size_said(tmp_path, capsys, monkeypatch):
  """fetch_deb (the stand-ins' Debian downloads) says what it downloads and how big, then
  unpacks the .deb whole; apt-get and apt-cache are stand-ins on PATH serving a real .deb."""
  import os
  import subprocess
  pkg = tmp_path / 'pkg'
  (pkg / 'DEBIAN').mkdir(parents=True)
  (pkg / 'usr' / 'share' / 'x').mkdir(parents=True)
  (pkg / 'usr' / 'share' / 'x' / 'a.ogg').write_bytes(b'\x00' * 200_000)
  (pkg / 'DEBIAN' / 'control').write_text('Package: fake-music\nVersion: 1.0\nArchitecture: all\n'
                                          'Maintainer: t <t@t>\nDescription: t\n')
  deb = tmp_path / 'fake-music_1.0_all.deb'
  subprocess.run(['dpkg-deb', '-Zgzip', '-b', str(pkg), str(deb)], check=True, capture_output=True)
  bin_dir = tmp_path / 'bin'
  bin_dir.mkdir()
  (bin_dir / 'apt-get').write_text(f'#!/bin/sh\ncp {deb} .\n')
  (bin_dir / 'apt-cache').write_text(f'#!/bin/sh\necho "Size: {deb.stat().st_size}"\n')
  for tool in ('apt-get', 'apt-cache'):
    (bin_dir / tool).chmod(0o755)
  monkeypatch.setenv('PATH', f'{bin_dir}:{os.environ["PATH"]}')
  root = download.fetch_deb('fake-music', tmp_path / 'debs', tmp_path / 'root')
  said = capsys.readouterr().out.splitlines()
  mb = deb.stat().st_size / 1e6
  assert said[0] == f'downloading fake-music ({mb:.0f} MB) with apt-get'
  assert said[1].startswith(f'  {mb:.0f} MB in ')
  assert (root / 'usr' / 'share' / 'x' / 'a.ogg').stat().st_size == 200_000
  assert download.fetch_deb('fake-music', tmp_path / 'debs', tmp_path / 'root') == root
  assert not capsys.readouterr().out  # done: nothing downloaded, nothing said
