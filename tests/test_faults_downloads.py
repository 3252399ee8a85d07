"""Downloads and unpacking under faults (issue 25, item 8), against servers on 127.0.0.1."""

import http.server
import io
import threading
import time
import zipfile

import pytest

from tfrecords_tools import download


class Server:
  """Serves one resource the way a real server answers a Range past its end (416, with or
  without 'Content-Range: bytes */N'), or at a trickle of one byte a second."""

  def __init__(self, body: bytes, mode: str):
    outer = self
    self.log = []

    class Handler(http.server.BaseHTTPRequestHandler):
      def log_message(self, *args):
        pass

      def do_GET(self):
        rng = self.headers.get('Range')
        outer.log.append(rng)
        start = int(rng.split('=')[1].split('-')[0]) if rng else 0
        if start >= len(body) and rng:
          self.send_response(416)
          if mode == '416 with Content-Range':
            self.send_header('Content-Range', f'bytes */{len(body)}')
          self.send_header('Content-Length', '0')
          self.end_headers()
          return
        self.send_response(206 if rng else 200)
        self.send_header('Content-Length', str(len(body) - start))
        self.end_headers()
        if mode == 'trickle':
          for i in range(start, len(body)):
            try:
              self.wfile.write(body[i:i + 1])
              self.wfile.flush()
            except OSError:
              return
            time.sleep(1.0)
          return
        self.wfile.write(body[start:])

    self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    self.httpd.daemon_threads = True
    self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/f.bin'
    threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.httpd.shutdown()
    self.httpd.server_close()


BODY = bytes(range(256)) + b'x' * 61  # 317 bytes, as in the tester's case


@pytest.mark.parametrize('mode', ['416 with Content-Range', '416 without Content-Range'])
def test_a_part_file_longer_than_the_resource_is_not_taken_as_complete(tmp_path, mode):
  """No checksum published (NSynth, ESC-50): a 387-byte .part for a 317-byte resource was kept."""
  (tmp_path / 'f.bin.part').write_bytes(BODY + b'y' * 70)
  with Server(BODY, mode) as s:
    out = download.download(s.url, tmp_path / 'f.bin', None, progress=False, retry_wait=0)
  assert out.read_bytes() == BODY
  assert s.log == ['bytes=387-', None]  # refused past the end, then fetched whole


def test_a_complete_part_file_is_confirmed_by_the_servers_size(tmp_path):
  (tmp_path / 'f.bin.part').write_bytes(BODY)
  with Server(BODY, '416 with Content-Range') as s:
    out = download.download(s.url, tmp_path / 'f.bin', None, progress=False, retry_wait=0)
  assert out.read_bytes() == BODY and s.log == ['bytes=317-']


def test_a_trickling_server_is_given_up_on_in_bounded_time(tmp_path):
  t0 = time.monotonic()
  with Server(BODY, 'trickle') as s:
    with pytest.raises(download.DownloadError, match='bytes/s') as e:
      download.download(s.url, tmp_path / 'f.bin', None, progress=False, retries=1,
                        retry_wait=0, min_rate=100, stall_s=2.0)
  assert time.monotonic() - t0 < 15
  assert 'run again to resume from' in str(e.value)  # a few bytes came: the .part is kept


def test_no_resume_is_promised_without_a_part_file(tmp_path):
  with pytest.raises(download.DownloadError) as e:
    download.download('http://127.0.0.1:9/f.bin', tmp_path / 'f.bin', None, progress=False,
                      retries=0, retry_wait=0, timeout=2)
  assert 'run again to retry' in str(e.value) and '.part' not in str(e.value)


def test_a_folder_where_the_download_goes_is_refused(tmp_path):
  (tmp_path / 'f.bin').mkdir()
  with pytest.raises(download.DownloadError, match='is a folder'):
    download.download('http://127.0.0.1:9/f.bin', tmp_path / 'f.bin', None, progress=False)


def zip_bytes(names) -> bytes:
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, 'w') as z:
    for name in names:
      z.writestr(name, 'x' * 1000)
  return buf.getvalue()


def test_refused_and_truncated_archives_leave_nothing_and_are_named(tmp_path):
  (tmp_path / 'evil.zip').write_bytes(zip_bytes(['ok.txt', '../evil.txt']))
  with pytest.raises(download.DownloadError, match='outside'):
    download.unpack(tmp_path / 'evil.zip', tmp_path / 'evil')
  whole = zip_bytes(['a.txt', 'b.txt'])
  (tmp_path / 'cut.zip').write_bytes(whole[:len(whole) // 2])
  with pytest.raises(download.DownloadError, match='truncated or damaged zip'):
    download.unpack(tmp_path / 'cut.zip', tmp_path / 'cut')
  assert sorted(p.name for p in tmp_path.iterdir()) == ['cut.zip', 'evil.zip']
