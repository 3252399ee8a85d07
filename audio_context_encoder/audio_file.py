"""Reading and writing users' audio files: clear errors, same format out as in, atomic writes."""

import math
import os
import tempfile
from typing import NamedTuple

import numpy as np
import soundfile
from scipy import signal as sps


class UserError(Exception):
  """A mistake in what the user asked for; the CLI prints it as one line, no traceback."""


class Audio(NamedTuple):
  samples: np.ndarray  # [frames, channels] float64
  sample_rate: int
  format: str  # soundfile format, e.g. 'WAV'
  subtype: str  # soundfile subtype, e.g. 'PCM_16'


def read(path: str) -> Audio:
  """Reads any file libsndfile understands (wav, flac, ogg, mp3) as float64 [frames, channels]."""
  if not os.path.isfile(path):
    raise UserError(f'{path}: no such file')
  try:
    info = soundfile.info(path)
    samples, rate = soundfile.read(path, dtype='float64', always_2d=True)
  except Exception as e:  # libsndfile raises RuntimeError/LibsndfileError/TypeError
    raise UserError(f'{path}: cannot be read as audio ({str(e).strip() or type(e).__name__})') from None
  if samples.shape[0] == 0:
    raise UserError(f'{path}: the file holds no audio samples')
  if not np.all(np.isfinite(samples)):
    raise UserError(f'{path}: the file holds NaN or infinite samples')
  return Audio(samples, int(rate), info.format, info.subtype)


def write(path: str, audio: Audio) -> None:
  """Writes `audio` with its own format and subtype; a temp file renamed into place, so a
  failure leaves no partial output."""
  directory = os.path.dirname(os.path.abspath(path))
  suffix = os.path.splitext(path)[1]
  fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix=suffix, dir=directory)
  os.close(fd)
  try:
    samples = audio.samples
    if audio.subtype.startswith('PCM') or audio.subtype in ('ULAW', 'ALAW'):
      samples = np.clip(samples, -1.0, 1.0 - 2.0**-15)
    soundfile.write(tmp, samples, audio.sample_rate, subtype=audio.subtype, format=audio.format)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def glockenspiel_16k() -> np.ndarray:
  """ltfatpy's real glockenspiel recording (gspi.wav, 44.1 kHz) at 16 kHz, float64: the
  built-in music used by selfcheck, tests, benchmarks and the overfit probe."""
  from ltfatpy.signals.gspi import gspi
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
