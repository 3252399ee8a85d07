"""Resumable, checksum-verified downloads and safe unpacking.

A download goes to `<name>.part`; after a cut connection the next attempt (or the
next run) asks for the rest with an HTTP Range request and appends. A finished file
whose checksum differs from the published one is refused: it is deleted and the run
stops with a one-line error. Archives unpack into a temporary folder renamed when
complete, so an interrupted unpack is redone, never half-used.
"""

import hashlib
import http.client
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from typing import Optional

from tqdm import tqdm


class DownloadError(Exception):
  """A download or unpack that failed (message names the URL or file)."""


def file_digest(path, algorithm: str = 'sha1', chunk: int = 1 << 20) -> str:
  h = hashlib.new(algorithm)
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(chunk), b''):
      h.update(block)
  return h.hexdigest()


def _fetch_once(url: str, part: pathlib.Path, timeout: float, bar, min_rate: float = 1024,
                stall_s: float = 60.0) -> None:
  """One HTTP request that continues `part` from its current size.

  A server that sends less than min_rate bytes/s over stall_s seconds is given up on
  (TimeoutError; the caller retries and resumes): a socket timeout alone never trips while a
  byte trickles in now and then."""
  have = part.stat().st_size if part.exists() else 0
  req = urllib.request.Request(url, headers={'Range': f'bytes={have}-'} if have else {})
  try:
    resp = urllib.request.urlopen(req, timeout=timeout)
  except urllib.error.HTTPError as e:
    if e.code == 416 and have:  # asked past the end: complete only if the server says so
      total = _range_total(e.headers.get('Content-Range'))
      if total == have:
        return
      part.unlink()
      raise ConnectionError(f'{part.name} holds {have} bytes, the server '
                            + (f'has {total}' if total is not None else 'does not say how many')
                            + '; downloading it again') from None
    raise
  with resp:
    if have and resp.status != 206:  # server ignored the Range header: start over
      have = 0
    total = resp.headers.get('Content-Length')
    if bar is not None and total is not None:
      bar.reset(total=have + int(total))
      bar.update(have)
    window_start, window_bytes = time.monotonic(), 0
    with open(part, 'ab' if have else 'wb') as f:
      while True:
        block = resp.read1(1 << 16)  # returns what has arrived: the rate is checked as it comes
        if not block:
          break
        f.write(block)
        if bar is not None:
          bar.update(len(block))
        window_bytes += len(block)
        elapsed = time.monotonic() - window_start
        if elapsed >= stall_s:
          if window_bytes < min_rate * elapsed:
            raise TimeoutError(f'{window_bytes / elapsed:.0f} bytes/s over {elapsed:.0f} s, '
                               f'under the {min_rate:.0f} bytes/s a download needs')
          window_start, window_bytes = time.monotonic(), 0
    if total is not None and part.stat().st_size != have + int(total):
      raise ConnectionError(f'connection closed after {part.stat().st_size} bytes')


def _range_total(content_range: Optional[str]) -> Optional[int]:
  """N of a 416's 'Content-Range: bytes */N' (the resource's size), or None."""
  if content_range and content_range.strip().startswith('bytes */'):
    tail = content_range.strip()[len('bytes */'):]
    return int(tail) if tail.isdigit() else None
  return None


def download(url: str, dest, checksum: Optional[str] = None, algorithm: str = 'sha1',
             retries: int = 5, timeout: float = 60.0, progress: bool = True,
             retry_wait: float = 1.0, min_rate: float = 1024, stall_s: float = 60.0) -> pathlib.Path:
  """Downloads `url` to `dest` (skipped if `dest` exists with the right checksum)."""
  dest = pathlib.Path(dest)
  if dest.is_dir():
    raise DownloadError(f'{dest}: is a folder where the download {url} should go; move it away')
  dest.parent.mkdir(parents=True, exist_ok=True)
  if dest.exists():
    if checksum is None or file_digest(dest, algorithm) == checksum.lower():
      return dest
    dest.unlink()  # a stale or corrupt earlier download
  part = dest.with_name(dest.name + '.part')
  bar = tqdm(unit='B', unit_scale=True, desc=dest.name, disable=not progress, file=sys.stderr)
  last = None
  try:
    for attempt in range(retries + 1):
      try:
        _fetch_once(url, part, timeout, bar, min_rate, stall_s)
        break
      except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError,
              OSError) as e:
        last = e
        if isinstance(e, urllib.error.HTTPError) and e.code in (403, 404, 410):
          raise DownloadError(f'{url}: HTTP {e.code} {e.reason}') from None
        if attempt < retries:
          bar.write(f'{dest.name}: {e}; resuming ({attempt + 1}/{retries})')
          time.sleep(retry_wait)
    else:
      again = (f'run again to resume from {part} ({part.stat().st_size:,} bytes)'
               if part.exists() and part.stat().st_size else 'run again to retry')
      raise DownloadError(f'{url}: failed after {retries + 1} attempts ({last}); {again}')
  finally:
    bar.close()
  if checksum is not None:
    got = file_digest(part, algorithm)
    if got != checksum.lower():
      part.unlink()
      raise DownloadError(f'{url}: {algorithm} checksum {got} does not match the published '
                          f'{checksum}; the file was deleted')
  # Not atomic.replacing: the .part file must outlive a failure, so the next run resumes it.
  os.replace(part, dest)
  return dest


def _safe_members(names, root: pathlib.Path, archive) -> None:
  root = root.resolve()
  for name in names:
    target = (root / name).resolve()
    if target != root and root not in target.parents:
      raise DownloadError(f'{archive}: member {name!r} would unpack outside {root}')


def unpack(archive, dest) -> pathlib.Path:
  """Unpacks a .zip or .tar(.gz) into `dest` (skipped if done); temp folder then rename. A
  refused or failed unpack leaves nothing behind."""
  archive, dest = pathlib.Path(archive), pathlib.Path(dest)
  if dest.exists():
    return dest
  tmp = dest.with_name(f'.{dest.name}.unpacking')
  if tmp.exists():
    shutil.rmtree(tmp)
  tmp.mkdir(parents=True)
  try:
    if zipfile.is_zipfile(archive):
      with zipfile.ZipFile(archive) as z:
        _safe_members(z.namelist(), tmp, archive)
        z.extractall(tmp)
    elif tarfile.is_tarfile(archive):
      with tarfile.open(archive) as t:
        members = t.getmembers()
        _safe_members([m.name for m in members], tmp, archive)
        t.extractall(tmp, members=[m for m in members if m.isfile() or m.isdir()])
    elif _starts_like_a_zip(archive):
      raise DownloadError(f'{archive}: a truncated or damaged zip archive (its table of contents '
                          'at the end is missing); delete it and download again')
    else:
      raise DownloadError(f'{archive}: not a zip or tar archive')
  except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
    shutil.rmtree(tmp, ignore_errors=True)
    raise DownloadError(f'{archive}: cannot unpack ({e}); delete it and download again') from None
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  os.replace(tmp, dest)  # a folder: atomic.replacing is for files
  return dest


def _starts_like_a_zip(path) -> bool:
  with open(path, 'rb') as f:
    return f.read(4) == b'PK\x03\x04'


# ---- Debian packages as data (the stand-ins): downloaded and unpacked, never installed ----
def _run(cmd, cwd=None):
  try:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
  except FileNotFoundError:
    raise DownloadError(f'{cmd[0]}: not installed (a Debian tool; the stand-ins need it)') from None
  except subprocess.CalledProcessError as e:
    tail = (e.stderr or '').strip().splitlines()[-1:] or ['']
    raise DownloadError(f'{" ".join(cmd[:3])} failed: {tail[0]}') from None


def deb_size(package: str) -> Optional[int]:
  """The .deb's size in bytes from the package lists (None when they do not say)."""
  try:
    shown = subprocess.run(['apt-cache', 'show', '--no-all-versions', package],
                           capture_output=True, text=True, check=True).stdout
  except (OSError, subprocess.CalledProcessError):
    return None
  sizes = [line.split(':', 1)[1].strip() for line in shown.splitlines() if line.startswith('Size:')]
  return int(sizes[0]) if sizes and sizes[0].isdigit() else None


def fetch_deb(package: str, debs, root, log=print) -> pathlib.Path:
  """`apt-get download` of `package` into `debs` (kept for re-runs), unpacked whole into `root`
  (a temp folder renamed when done); one line before the download with its size, one after."""
  root, debs = pathlib.Path(root), pathlib.Path(debs)
  if root.exists():
    return root
  debs.mkdir(parents=True, exist_ok=True)
  if not list(debs.glob(f'{package}_*.deb')):
    size = deb_size(package)
    log(f'downloading {package}' + (f' ({size / 1e6:.0f} MB)' if size else '') + ' with apt-get',
        flush=True)
    t0 = time.monotonic()
    try:
      _run(['apt-get', 'download', package], debs)
    except DownloadError:  # the package lists may be missing or stale
      _run(['apt-get', 'update', '-qq'], debs)
      _run(['apt-get', 'download', package], debs)
    got = sorted(debs.glob(f'{package}_*.deb'))[-1].stat().st_size
    log(f'  {got / 1e6:.0f} MB in {time.monotonic() - t0:.0f} s', flush=True)
  deb = sorted(debs.glob(f'{package}_*.deb'))[-1]
  tmp = root.with_name(f'.{root.name}.unpacking')
  shutil.rmtree(tmp, ignore_errors=True)
  tmp.parent.mkdir(parents=True, exist_ok=True)
  _run(['dpkg-deb', '-x', str(deb), str(tmp)])
  tmp.rename(root)  # a folder, unpacked whole then renamed (atomic.replacing is for files)
  return root
