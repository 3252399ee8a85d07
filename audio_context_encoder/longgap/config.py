"""The long-gap benchmark protocol of Chang et al. 2019, named as the paper names it.

Sections: "Datasets", "Benchmark Procedure", "Evaluation Metrics", "Baseline Implementation
Details", and the sizes quoted under Table 1 ("Quantitative Results"). Facts the paper leaves
open are marked INFERRED with the reason; docs/longgap.md lists them.
"""

import dataclasses
from typing import Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Protocol:
  """One dataset's clips, masks and splits."""

  name: str
  # "Datasets": SC09 clips are 1 s at 16 kHz. ESC-50: 5 s clips; "Quantitative Results"
  # counts 22050 x 5 = 110250 waveform samples, so 22.05 kHz.
  sample_rate: int
  clip_seconds: float
  # "Benchmark Procedure": random masks of this length in training...
  train_mask_seconds: float
  # ...and one fixed mask [start, end) in seconds in testing.
  test_mask: Tuple[float, float]
  # "Benchmark Procedure" (ESC-50): clips "copied twice to 10 seconds and then randomly
  # cropped to 5 seconds during training"; 1 = no repetition (SC09: "without any data
  # augmentation").
  train_repeat: int = 1
  # "Datasets": number of classes (SC09: digits zero..nine; ESC-50: 50 classes).
  classes: int = 10

  @property
  def clip_samples(self) -> int:
    return int(round(self.clip_seconds * self.sample_rate))

  def test_mask_samples(self) -> Tuple[int, int]:
    """[start, end) of the fixed test mask in samples."""
    return tuple(int(round(t * self.sample_rate)) for t in self.test_mask)

  def loud_test_gap(self, clips, min_rms: float = 1e-4) -> np.ndarray:
    """[B] bool: the clips whose fixed test gap has an RMS of at least min_rms (a silent gap
    scores nothing: its SNRs are undefined, every method fills it equally)."""
    start, end = self.test_mask_samples()
    x = np.asarray(clips, np.float64)[:, start:end]
    return np.sqrt(np.mean(x ** 2, axis=1)) >= min_rms

  def test_mask_array(self, batch: int = 1) -> np.ndarray:
    """Boolean mask [batch, clip_samples], True on the missing samples."""
    start, end = self.test_mask_samples()
    m = np.zeros((batch, self.clip_samples), bool)
    m[:, start:end] = True
    return m

  def random_train_mask(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
    """Training masks [batch, clip_samples]: train_mask_seconds at a uniform random start.

    INFERRED: the paper says "random masking"; the start is uniform over the positions where
    the whole mask fits in the clip.
    """
    n = self.clip_samples
    g = int(round(self.train_mask_seconds * self.sample_rate))
    starts = rng.integers(0, n - g + 1, batch)
    m = np.zeros((batch, n), bool)
    for i, s in enumerate(starts):
      m[i, s:s + g] = True
    return m

  def train_crop(self, clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ESC-50 training augmentation: the clip repeated train_repeat times, a random
    clip_samples crop of it (identity for train_repeat = 1)."""
    clip = np.asarray(clip)
    if self.train_repeat == 1:
      return clip
    long = np.tile(clip, self.train_repeat)
    start = int(rng.integers(0, long.shape[-1] - self.clip_samples + 1))
    return long[start:start + self.clip_samples]


SC09 = Protocol(name='sc09', sample_rate=16000, clip_seconds=1.0, train_mask_seconds=0.2,
                test_mask=(0.4, 0.6))
ESC50 = Protocol(name='esc50', sample_rate=22050, clip_seconds=5.0, train_mask_seconds=0.4,
                 test_mask=(3.0, 3.4), train_repeat=2, classes=50)
PROTOCOLS = {p.name: p for p in (SC09, ESC50)}

# "Benchmark Procedure" (ESC-50): folds 1-4 train (1600 clips); fold 5: the first 200 clips
# validation, the other 200 test.
ESC50_TRAIN_FOLDS = (1, 2, 3, 4)
ESC50_HOLDOUT_FOLD = 5
ESC50_VALID_CLIPS = 200  # first 200 of fold 5 (in esc50.csv order); the last 200 test


@dataclasses.dataclass(frozen=True)
class MetricSTFT:
  """The spectrogram of the metrics (SSIM, spectral SNR, spectrogram perceptual distance).

  INFERRED: the paper gives only the sizes "1024 x 400 and 1024 x 80 for ESC-50 and SC09"
  ("Quantitative Results"). 1024 bins -> a 2048-point FFT (1025 bins; the paper's 1024 drops
  one); 80 frames per 16000 samples -> hop 200 (12.5 ms). The same 12.5 ms hop on ESC-50 gives
  400 frames per 5 s, matching the quoted 400. Hann window as long as the FFT.
  """

  n_fft: int = 2048
  hop_seconds: float = 0.0125

  def hop(self, sample_rate: int) -> int:
    return int(round(self.hop_seconds * sample_rate))


METRIC_STFT = MetricSTFT()


@dataclasses.dataclass(frozen=True)
class SSIMConfig:
  """SSIM (Wang et al. 2004) on spectrograms, "Evaluation Metrics".

  INFERRED (the paper names only the index): Wang et al.'s defaults: Gaussian window
  sigma 1.5 truncated at 3.5 sigma (11 x 11), K1 0.01, K2 0.03, population covariances, the
  mean over the valid (unpadded) positions. The image: STFT magnitude in dB relative to the
  reference clip's maximum, clipped at -dynamic_range_db and mapped to [0, 1] (data range 1).
  """

  sigma: float = 1.5
  truncate: float = 3.5
  k1: float = 0.01
  k2: float = 0.03
  dynamic_range_db: float = 80.0


SSIM = SSIMConfig()


@dataclasses.dataclass(frozen=True)
class MethodSTFT:
  """The spectrogram the spectrogram baselines (Deep Prior, similarity graph) work on.

  Not in the paper for the baselines; the package's own STFT (audio_context_encoder.config
  SignalConfig: Hann 512, hop 128) so the masked PGHI + FGLA of phase.py applies unchanged.
  """

  n_fft: int = 512
  hop: int = 128


METHOD_STFT = MethodSTFT()

# "Baseline Implementation Details": Deep Prior target iteration 4001 (changed from 6001).
DEEP_PRIOR_ITERATIONS = 4001
# The Deep Image Prior inpainting script's learning rate (Adam 0.01) -- INFERRED from its
# public defaults, not stated in the paper.
DEEP_PRIOR_LR = 0.01


def get(name: str) -> Protocol:
  """The protocol of 'sc09' or 'esc50' (one-line error otherwise)."""
  try:
    return PROTOCOLS[name]
  except KeyError:
    raise ValueError(f'unknown long-gap dataset {name!r}; choose one of {sorted(PROTOCOLS)}') from None


def gap_bounds(mask: np.ndarray) -> Tuple[int, int]:
  """[start, end) of the single contiguous True run of a 1-D mask (ValueError otherwise)."""
  idx = np.flatnonzero(np.asarray(mask))
  if idx.size == 0:
    raise ValueError('the mask has no missing samples')
  start, end = int(idx[0]), int(idx[-1]) + 1
  if idx.size != end - start:
    raise ValueError('the mask must be one contiguous gap per clip')
  return start, end
