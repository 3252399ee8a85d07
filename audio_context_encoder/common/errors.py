"""The errors the entry points print as one line (no traceback): each names what is wrong.

One module so that every layer raises the same classes and every entry point catches them
without importing the layer that raised them.
"""

import contextlib
import signal


class UserError(ValueError):
  """A mistake in what the user asked for (a flag, a file, a gap)."""


class WriteError(Exception):
  """The output cannot be written (message names the path)."""


class DatasetError(Exception):
  """A dataset folder that cannot be read (message names it)."""


class AudioDecodeError(Exception):
  """An audio file that cannot be decoded; the message names the file."""


class Terminated(BaseException):
  """SIGTERM (kill, timeout, a service manager), raised where the main thread is, like Ctrl-C's
  KeyboardInterrupt: temp files are removed on the way out and the entry point prints one line."""


@contextlib.contextmanager
def sigterm_raises():
  """Within: SIGTERM raises Terminated in the main thread (elsewhere, signals are left alone)."""
  def on_sigterm(signum, frame):
    raise Terminated()

  try:
    previous = signal.signal(signal.SIGTERM, on_sigterm)
  except ValueError:  # not the main thread
    previous = None
  try:
    yield
  finally:
    if previous is not None:
      signal.signal(signal.SIGTERM, previous)
