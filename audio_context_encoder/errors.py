"""The errors the entry points print as one line (no traceback): each names what is wrong.

One module so that every layer raises the same classes and every entry point catches them
without importing the layer that raised them.
"""


class UserError(ValueError):
  """A mistake in what the user asked for (a flag, a file, a gap)."""


class WriteError(Exception):
  """The output cannot be written (message names the path)."""


class DatasetError(Exception):
  """A dataset folder that cannot be read (message names it)."""


class AudioDecodeError(Exception):
  """An audio file that cannot be decoded; the message names the file."""
