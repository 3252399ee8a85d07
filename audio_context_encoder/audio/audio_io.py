"""Decode an audio file to mono float32 at 16 kHz (paper §3.1, §3.2): datasets and `evaluate`.

One decoder per format, and why:
  * WAV, FLAC, OGG: libsndfile (soundfile), the reader `audio_file` uses for users' files too.
  * MP3 (FMA, the tonejs note sets): tensorflow-io's decoder. The datasets and their tables
    were built with it, and MP3 decoders differ in the encoder delay and padding they drop, so
    another decoder would shift every segment. Imported only when an MP3 is met, so builder
    workers that never see one stay light. (`inpaint` reads MP3 through libsndfile instead: it
    streams the file in blocks and writes it back in its own codes, which tensorflow-io cannot.)
Resampling is polyphase (audio_file.resample), e.g. 44.1 kHz -> 16 kHz with up 160, down 441.
"""

import os
import pathlib
from typing import Optional

import numpy as np
import soundfile

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_file
from audio_context_encoder.common.errors import AudioDecodeError

AUDIO_EXTENSIONS = ('.wav', '.flac', '.ogg', '.mp3')


def _read_soundfile(path):
  x, rate = soundfile.read(str(path), dtype='float32', always_2d=True)
  return x, rate


def _read_mp3(path):
  # Heavy and only needed for MP3 (see the module docstring): imported here on purpose.
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf  # noqa: F401  (tensorflow_io needs it loaded)
  import tensorflow_io as tfio
  audio = tfio.audio.AudioIOTensor(str(path))
  rate = int(audio.rate.numpy())
  x = audio.to_tensor().numpy()
  if x.ndim == 1:
    x = x[:, None]
  if x.dtype != np.float32:
    # Integer PCM from the decoder: scale to [-1, 1).
    x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
  return x, rate


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
  """Polyphase resampling (audio_file.resample), float32 out."""
  return audio_file.resample(np.asarray(x, np.float32), rate_in, rate_out).astype(np.float32, copy=False)


def damage_note(path) -> Optional[str]:
  """Why a file that decodes is still damaged, or None: a WAV or AIFF whose data chunk is
  shorter than its header announces (libsndfile reads what is there and says so only in its
  log). A truncated MP3 or FLAC fails to decode instead (load)."""
  try:
    log = soundfile.info(str(path)).extra_info
  except Exception:
    return None
  for line in log.splitlines():
    chunk = line.split(':', 1)[0].strip()
    if chunk in ('data', 'SSND') and '(should be' in line:
      return (f'{path}: truncated ({line.strip()}: the file ends before the audio its header '
              'announces); what is there was kept')
  return None


def load(path, sample_rate: int = 16000) -> np.ndarray:
  """Mono float32 samples of `path` at `sample_rate`; AudioDecodeError if it cannot be read."""
  path = pathlib.Path(path)
  try:
    with open(path, 'rb'):
      pass
  except OSError as e:  # libsndfile would only say 'System error.'
    raise AudioDecodeError(f'{path}: cannot be read ({atomic.describe(e)})') from None
  try:
    if path.suffix.lower() == '.mp3':
      x, rate = _read_mp3(path)
    else:
      x, rate = _read_soundfile(path)
  except Exception as e:  # decoders raise many types; the caller reports and skips
    msg = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
    raise AudioDecodeError(f'{path}: cannot decode audio ({msg[:200]})') from None
  if x.size == 0 or rate <= 0:
    raise AudioDecodeError(f'{path}: no audio samples')
  # A matrix-vector product: much faster than x.mean(axis=1) on interleaved channels.
  mono = x @ np.full(x.shape[1], 1.0 / x.shape[1], x.dtype) if x.shape[1] > 1 else x[:, 0]
  if not np.all(np.isfinite(mono)):
    raise AudioDecodeError(f'{path}: decoded audio contains NaN or infinite samples')
  return resample(mono, rate, sample_rate)
