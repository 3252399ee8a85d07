"""Decode any audio file to mono float32 at 16 kHz (paper §3.1, §3.2).

WAV/FLAC/OGG go through libsndfile (soundfile); MP3 (FMA, the tonejs note sets)
through tensorflow-io's decoder, imported only when an MP3 is met so that
workers that never see one stay light. Resampling is polyphase (scipy), e.g.
44.1 kHz -> 16 kHz with up = 160, down = 441.
"""

import pathlib

import numpy as np

from audio_context_encoder import audio_file

AUDIO_EXTENSIONS = ('.wav', '.flac', '.ogg', '.mp3')


class AudioDecodeError(Exception):
  """An audio file that cannot be decoded; the message names the file."""


def _read_soundfile(path):
  import soundfile as sf
  x, rate = sf.read(str(path), dtype='float32', always_2d=True)
  return x, rate


def _read_mp3(path):
  import os
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


def load(path, sample_rate: int = 16000) -> np.ndarray:
  """Mono float32 samples of `path` at `sample_rate`; AudioDecodeError if it cannot be read."""
  path = pathlib.Path(path)
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
