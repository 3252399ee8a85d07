"""Reading and writing users' audio files: clear errors, exact samples, atomic writes.

Samples are handled in the file's own integer code where it has one (every PCM, u-law,
a-law and ALAC subtype is read as int32, which libsndfile fills exactly: 16-bit values
shifted left by 16, 24-bit by 8), or as float64 for FLOAT/DOUBLE. Writing the same codes
back reproduces the file's samples bit for bit; only new samples (the filled gaps) are
quantised, by rounding to the subtype's step. Lossy codecs (Vorbis, Opus, MP3, ADPCM,
GSM) are decoded and re-encoded: never bit-exact.

Files are read and written in blocks (`blocks`, `write_patched`), so memory does not grow
with the file's length.
"""

import contextlib
import errno
import math
import os
import stat
from typing import Iterator, List, NamedTuple, Sequence, Tuple

import numpy as np
import soundfile
from scipy import signal as sps

from audio_context_encoder.common import atomic
from audio_context_encoder.common.errors import UserError

BLOCK = 1 << 16  # frames per block when streaming a file
# Integer-coded subtypes and their bits; libsndfile reads them exactly as int32.
INT_BITS = {'PCM_S8': 8, 'PCM_U8': 8, 'PCM_16': 16, 'PCM_24': 24, 'PCM_32': 32, 'ULAW': 16,
            'ALAW': 16, 'ALAC_16': 16, 'ALAC_20': 20, 'ALAC_24': 24, 'ALAC_32': 32}
FLOAT_SUBTYPES = ('FLOAT', 'DOUBLE')
LOSSLESS = frozenset(INT_BITS) | frozenset(FLOAT_SUBTYPES)
# Output extensions soundfile does not name by format.
EXTENSION_FORMATS = {'.aif': 'AIFF', '.aiff': 'AIFF', '.aifc': 'AIFF', '.oga': 'OGG',
                     '.opus': 'OGG', '.snd': 'AU'}
# Output extensions that name a codec too: .opus is Opus in Ogg, which libsndfile writes only
# at Opus's own rates (RFC 6716 §2).
EXTENSION_SUBTYPES = {'.opus': 'OPUS'}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class Audio(NamedTuple):
  samples: np.ndarray  # [frames, channels] float64
  sample_rate: int
  format: str  # soundfile format, e.g. 'WAV'
  subtype: str  # soundfile subtype, e.g. 'PCM_16'


class Source(NamedTuple):
  """An input file, opened lazily: what is needed to stream it."""

  path: str
  frames: int
  channels: int
  sample_rate: int
  format: str
  subtype: str

  @property
  def dtype(self) -> str:
    return 'int32' if self.subtype in INT_BITS else 'float64'


@contextlib.contextmanager
def quiet_stderr():
  """Silences C libraries (libmpg123's 'Note: Trying to resync...') writing to fd 2."""
  try:
    saved = os.dup(2)
  except OSError:
    yield
    return
  try:
    with open(os.devnull, 'w') as null:
      os.dup2(null.fileno(), 2)
      yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)


def _cannot_read(path, e) -> UserError:
  msg = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
  if 'possibly a pipe' in msg or 'Format not recognised' in msg or 'unknown format' in msg:
    msg = 'not a supported audio format, or a damaged file'
  return UserError(f'{path}: cannot be read as audio ({msg})')


def open_source(path: str) -> Source:
  """Checks that `path` is a readable, non-empty audio file (wav, flac, ogg, mp3, ...)."""
  try:
    mode = os.stat(path).st_mode
  except FileNotFoundError:
    raise UserError(f'{path}: no such file') from None
  except OSError as e:
    raise UserError(f'{path}: cannot be read ({e.strerror})') from None
  if stat.S_ISDIR(mode):
    raise UserError(f'{path}: is a folder, not an audio file')
  if not stat.S_ISREG(mode):
    raise UserError(f'{path}: not a regular file (a pipe, socket or device); inpainting reads '
                    'its input several times: save the audio to a file first')
  try:
    with open(path, 'rb'):
      pass
  except OSError as e:  # libsndfile would only say 'System error.'
    raise UserError(f'{path}: cannot be read ({atomic.describe(e)})') from None
  try:
    with quiet_stderr():
      info = soundfile.info(path)
  except Exception as e:  # libsndfile raises RuntimeError/LibsndfileError/TypeError
    raise _cannot_read(path, e) from None
  if info.frames <= 0 or info.channels <= 0:
    raise UserError(f'{path}: the file holds no audio samples')
  return Source(path, int(info.frames), int(info.channels), int(info.samplerate), info.format,
                info.subtype)


def to_float(raw: np.ndarray) -> np.ndarray:
  """Sample codes -> float64 in [-1, 1) (int32 codes / 2^31; floats as they are). Exact."""
  if raw.dtype == np.int32:
    return raw.astype(np.float64) / 2.0**31
  return np.asarray(raw, np.float64)


def from_float(x: np.ndarray, subtype: str) -> np.ndarray:
  """float64 -> the codes `to_float` came from: rounded to the subtype's step, clipped to its
  range (so to_float(from_float(to_float(r))) == to_float(r) for every code r)."""
  if subtype not in INT_BITS:
    return np.asarray(x, np.float64)
  bits = INT_BITS[subtype]
  step = 2.0**(32 - bits)
  q = np.clip(np.round(np.asarray(x, np.float64) * (2.0**31 / step)), -2.0**(bits - 1),
              2.0**(bits - 1) - 1)
  return (q * step).astype(np.int32)


def read_raw(src: Source, start: int, stop: int) -> np.ndarray:
  """Codes [stop - start, channels] of frames [start, stop)."""
  try:
    with quiet_stderr(), soundfile.SoundFile(src.path) as f:
      f.seek(start)
      raw = f.read(stop - start, dtype=src.dtype, always_2d=True)
  except Exception as e:
    raise _cannot_read(src.path, e) from None
  if len(raw) != stop - start:
    raise UserError(f'{src.path}: the file ends at frame {start + len(raw)}, before the '
                    f'{src.frames} frames its header announces (damaged file)')
  return raw


def check_decodes(src: Source) -> None:
  """Decodes the whole file once, so a damaged file (a truncated FLAC) is refused before any
  filling, not in the middle of writing the output."""
  for _ in blocks(src):
    pass


def blocks(src: Source, size: int = BLOCK) -> Iterator[Tuple[int, np.ndarray]]:
  """(first frame, codes [n, channels]) of the whole file, block by block.

  stderr is silenced around each read only, never across a yield: the caller's own
  messages (an error while writing the output) must still reach the terminal. A file that
  ends before the frames its header announces is a damaged file (UserError).
  """
  try:
    with quiet_stderr():
      f = soundfile.SoundFile(src.path)
  except Exception as e:
    raise _cannot_read(src.path, e) from None
  with f:
    start = 0
    while True:
      try:
        with quiet_stderr():
          raw = f.read(size, dtype=src.dtype, always_2d=True)
      except Exception as e:
        raise _cannot_read(src.path, e) from None
      if not len(raw):
        break
      yield start, raw
      start += len(raw)
  if start < src.frames:
    raise UserError(f'{src.path}: the file ends at frame {start}, before the {src.frames} '
                    'frames its header announces (damaged file)')


def read(path: str) -> Audio:
  """The whole file as float64 [frames, channels] (exact: see `to_float`)."""
  src = open_source(path)
  samples = to_float(read_raw(src, 0, src.frames))
  if not np.all(np.isfinite(samples)):
    raise UserError(f'{path}: the file holds NaN or infinite samples')
  return Audio(samples, src.sample_rate, src.format, src.subtype)


def output_format(path: str, src_format: str, src_subtype: str,
                  rate: int = None) -> Tuple[str, str]:
  """(format, subtype) to write `path` with: the format its extension names, the input's subtype.

  A lossless subtype the named format cannot hold is refused (it could not stay bit-exact);
  a lossy output format (.ogg, .mp3), or a lossy input written to another format, gets that
  format's default subtype (e.g. .mp3 to .wav: 16-bit PCM). `.opus` is Opus, at Opus's rates.
  """
  ext = os.path.splitext(path)[1].lower()
  if not ext:
    raise UserError(f'{path}: no extension; name the output format, e.g. out.wav or out.flac')
  fmt = EXTENSION_FORMATS.get(ext, ext[1:].upper())
  if fmt not in soundfile.available_formats():
    raise UserError(f'{path}: cannot write {ext} files (soundfile writes '
                    f'{", ".join("." + f.lower() for f in ("WAV", "FLAC", "OGG", "MP3", "AIFF"))}, ...)')
  if ext in EXTENSION_SUBTYPES:
    codec = EXTENSION_SUBTYPES[ext]
    if not soundfile.check_format(fmt, codec):
      raise UserError(f'{path}: this libsndfile cannot write {codec}; use .ogg (Vorbis) or .flac')
    if rate is not None and rate not in OPUS_RATES:
      raise UserError(f'{path}: Opus holds only {", ".join(f"{r // 1000} kHz" for r in OPUS_RATES)}'
                      f'; the input is at {rate} Hz: use .ogg (Vorbis) or .flac')
    return fmt, codec
  if fmt == src_format or (src_subtype in LOSSLESS and soundfile.check_format(fmt, src_subtype)):
    return fmt, src_subtype
  if src_subtype in LOSSLESS and fmt not in ('OGG', 'MP3'):
    can = [s for s in soundfile.available_subtypes(fmt) if s in LOSSLESS]
    raise UserError(f'{path}: {fmt} cannot hold the input\'s {src_subtype} samples '
                    f'({fmt} holds {", ".join(can) or "only lossy codecs"}); use the input\'s extension')
  return fmt, soundfile.default_subtype(fmt)


def _bytes_per_frame(subtype: str, channels: int) -> float:
  if subtype in INT_BITS:
    return channels * INT_BITS[subtype] / 8
  return channels * (8 if subtype == 'DOUBLE' else 4 if subtype == 'FLOAT' else 0.5)


def expected_size(src: Source, fmt: str, subtype: str) -> int:
  """A rough size of the output, for the free-space check before the work."""
  if fmt == src.format:
    return os.path.getsize(src.path)
  return int(src.frames * _bytes_per_frame(subtype, src.channels)) + 4096


def _write_codes(tmp: str, frames: Iterator[np.ndarray], rate: int, channels: int, fmt: str,
                 subtype: str) -> None:
  """Writes code blocks; libsndfile's write errors (a full disk: an error code or a short
  write) come out as OSError with the system's errno, which atomic.replacing turns into one
  line ('the disk is full')."""
  try:
    with soundfile.SoundFile(tmp, 'w', rate, channels, subtype, format=fmt) as f:
      for raw in frames:
        f.write(raw)
  except (RuntimeError, AssertionError) as e:
    raise _write_failure(e) from None


def _write_failure(e: Exception) -> OSError:
  """The OSError behind a libsndfile error: cffi keeps the errno of the failed write(2)
  (libsndfile itself only says 'System error.')."""
  code = getattr(getattr(soundfile, '_ffi', None), 'errno', 0) or 0
  if code and code != errno.ENOENT:
    return OSError(code, os.strerror(code))
  return OSError(errno.EIO, f'libsndfile: {str(e).strip() or "short write"}')


def write_patched(path: str, src: Source, patches: Sequence[Tuple[int, np.ndarray]],
                  fmt: str = None, subtype: str = None) -> None:
  """Copies `src` to `path` block by block, replacing frames [lo, lo + len(v)) by float64 v
  for each (lo, v) in `patches`; everything else keeps its exact codes. Atomic."""
  fmt, subtype = fmt or src.format, subtype or src.subtype
  patches = [(lo, from_float(v, src.subtype)) for lo, v in patches]

  def patched():
    for start, raw in blocks(src):
      stop = start + len(raw)
      for lo, codes in patches:
        a, b = max(lo, start), min(lo + len(codes), stop)
        if a < b:
          raw[a - start:b - start] = codes[a - lo:b - lo]
      yield raw

  with atomic.replacing(path) as tmp:
    _write_codes(tmp, patched(), src.sample_rate, src.channels, fmt, subtype)


def write(path: str, audio: Audio) -> None:
  """Writes `audio` with its own format and subtype (rounded to the subtype's step; no clipping
  beyond its range); temp file then rename, so a failure leaves no partial output."""
  samples = np.atleast_2d(np.asarray(audio.samples, np.float64).T).T
  codes = from_float(samples, audio.subtype)
  with atomic.replacing(path) as tmp:
    _write_codes(tmp, iter([codes]), audio.sample_rate, codes.shape[1], audio.format,
                 audio.subtype)


def glockenspiel_16k() -> np.ndarray:
  """ltfatpy's real glockenspiel recording (gspi.wav, 44.1 kHz) at 16 kHz, float64: the
  built-in music used by selfcheck, tests, benchmarks and the overfit probe."""
  from ltfatpy.signals.gspi import gspi  # ltfatpy is slow to import; only this signal needs it
  x, fs = gspi()
  return resample(np.asarray(x, np.float64).ravel(), int(fs), 16000)


def resample(x: np.ndarray, rate_from: int, rate_to: int) -> np.ndarray:
  """Polyphase resampling along axis 0 (scipy's Kaiser-windowed FIR), e.g. 44.1 -> 16 kHz
  with up = 160, down = 441. Keeps float32/float64; always returns a new array."""
  x = np.asarray(x)
  if not np.issubdtype(x.dtype, np.floating):
    x = x.astype(np.float64)
  if rate_from == rate_to:
    return x.copy()
  g = math.gcd(int(rate_from), int(rate_to))
  return sps.resample_poly(x, rate_to // g, rate_from // g, axis=0)
