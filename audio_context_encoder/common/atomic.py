"""Writing a file all at once or not at all: a temp file in the same folder, then a rename.

Every file this package writes goes through `replacing` (or write_text/write_json), so:
  * a failure or Ctrl-C leaves the old file (or nothing) and no temp file behind;
  * a process killed outright (SIGKILL) leaves `.tmp-ace-<pid>-<8 hex>-...` behind, which the
    next write into that folder removes once that pid is gone (`clean_stale`); a file that
    only looks like one (a user's input so named, an impossible pid) is never removed, nor
    any path given to `protect`;
  * a path that is a symbolic link is written through: its target is replaced, the link stays;
  * the new file gets the mode a plain open() would give it: the umask's for a new file, the
    old file's own mode when it replaces one (mkstemp's 0600 would leak otherwise).
`check_writable` tells, before any long work, whether the write can succeed.
"""

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import stat

from audio_context_encoder.common.errors import WriteError

PREFIX = '.tmp-ace-'
# What temp_name writes: the pid (Linux caps it at 2^22), 8 hex digits, the target's name.
_OURS = re.compile(re.escape(PREFIX) + r'([1-9][0-9]{0,6})-[0-9a-f]{8}-.')
PID_MAX = 1 << 22
_PROTECTED = set()  # real paths never removed by clean_stale (this run's inputs)


def protect(path: str) -> None:
  """`path` (a run's input) is never removed as a stale temp file, whatever its name."""
  _PROTECTED.add(os.path.realpath(path))


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except (PermissionError, OverflowError):  # someone else's live process; not a pid at all
    return True
  return True


def clean_stale(folder: str) -> list:
  """Removes our temp files in `folder` whose writing process no longer runs; returns them."""
  removed = []
  try:
    names = os.listdir(folder)
  except OSError:
    return removed
  for name in names:
    m = _OURS.match(name)
    if not m or int(m.group(1)) > PID_MAX or int(m.group(1)) == os.getpid():
      continue
    path = os.path.join(folder, name)
    if (os.path.realpath(path) not in _PROTECTED and not os.path.islink(path)
        and os.path.isfile(path) and not _alive(int(m.group(1)))):
      with contextlib.suppress(OSError):
        os.remove(path)
        removed.append(name)
  return removed


def target(path: str) -> str:
  """The file a write of `path` replaces: through symbolic links, to their final target."""
  return os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)


def temp_name(path: str) -> str:
  """A fresh temp path beside `path`, ending like it (libraries pick the format by suffix)."""
  folder, base = os.path.split(os.path.abspath(path))
  return os.path.join(folder, f'{PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{base}')


def describe(e: OSError) -> str:
  """An OSError in a few words ('the disk is full', 'permission denied')."""
  if e.errno == errno.ENOSPC:
    return 'the disk is full'
  if e.errno == errno.EDQUOT:
    return 'the disk quota is used up'
  if e.errno == errno.EFBIG:
    return 'larger than the file size this process may write (ulimit -f)'
  if e.errno in (errno.EACCES, errno.EPERM):
    return 'permission denied'
  if e.errno == errno.EROFS:
    return 'read-only file system'
  return e.strerror or type(e).__name__


def check_writable(path: str, need_bytes: int = 0) -> None:
  """Raises WriteError unless `path` can be (re)written: its folder exists and takes a new file,
  `path` is not a folder, and the disk has `need_bytes` free."""
  shown = path = os.fspath(path)
  path = target(path)
  folder = os.path.dirname(path)
  if os.path.isdir(path):
    raise WriteError(f'{shown}: is a folder; give a file name')
  if not os.path.isdir(folder):
    raise WriteError(f'{shown}: the folder {folder} does not exist')
  clean_stale(folder)
  probe = temp_name(path)
  try:
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    os.remove(probe)
  except OSError as e:
    raise WriteError(f'{shown}: cannot write in {folder} ({describe(e)})') from None
  if need_bytes:
    free = shutil.disk_usage(folder).free
    if free < need_bytes:
      raise WriteError(f'{shown}: not enough free space in {folder} (needs about '
                       f'{need_bytes / 1e6:.1f} MB, {free / 1e6:.1f} MB free)')


@contextlib.contextmanager
def replacing(path: str):
  """`with replacing(path) as tmp:` write tmp; on success it is renamed onto `path`.

  Any exception (KeyboardInterrupt included) removes tmp and leaves `path` as it was; an
  OSError is raised again as a one-line WriteError. A symbolic link is written through.
  """
  shown = path = os.fspath(path)
  path = target(path)
  folder = os.path.dirname(path)
  clean_stale(folder)
  tmp = temp_name(path)
  try:
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
    mode = stat.S_IMODE(os.stat(tmp).st_mode)
    if os.path.exists(path):
      mode = stat.S_IMODE(os.stat(path).st_mode)  # replacing a file keeps its mode
    yield tmp
    os.chmod(tmp, mode)
    os.replace(tmp, path)
  except OSError as e:
    _remove(tmp)
    raise WriteError(f'{shown}: cannot write ({describe(e)})') from None
  except BaseException:
    _remove(tmp)
    raise


def _remove(tmp):
  with contextlib.suppress(OSError):
    os.remove(tmp)


def write_bytes(path: str, data: bytes) -> None:
  with replacing(path) as tmp:
    with open(tmp, 'wb') as f:
      f.write(data)


def write_text(path: str, text: str) -> None:
  write_bytes(path, text.encode('utf-8'))


def write_json(path: str, obj, indent=None) -> None:
  write_text(path, json.dumps(obj, indent=indent))
