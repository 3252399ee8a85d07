"""Inpainting gaps in a user's recording (any rate, any channel count).

Each channel is resampled to 16 kHz, each gap is filled there by a *filler* (LPC or the
network), and only the gap and its transition zone are resampled back and spliced into
the original samples, so everything else stays bit-exact:

  * LPC: the gap itself (paper §3.5 fills exactly the gap).
  * network: the gap plus M - a = 384 samples at 16 kHz (24 ms) on each side, where the
    restored signal cross-fades into the original with a raised-cosine ramp (the STFT
    overlap of §2.4).

Gaps shorter than the network's 64 ms are filled by extending them to 64 ms (paper §4.2,
Table 3): centred where the context allows, otherwise shifted as little as possible.
"""

import dataclasses
import math
import re
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from audio_context_encoder import audio_file
from audio_context_encoder.audio_file import UserError
from audio_context_encoder.config import SignalConfig

RATE = 16000
RESAMPLE_GUARD = 512  # extra 16 kHz samples around a spliced region so filter edges stay outside


@dataclasses.dataclass(frozen=True)
class Gap:
  """A gap in seconds of the input file: [start, start + duration)."""

  start: float
  duration: float

  def samples(self, rate: int) -> Tuple[int, int]:
    """[first, end) sample indices at `rate` that cover the gap."""
    first = int(np.floor(self.start * rate + 1e-9))
    end = int(np.ceil((self.start + self.duration) * rate - 1e-9))
    return first, max(end, first + 1)

  def __str__(self):
    return f'{self.start:g}s:{self.duration * 1000:g}ms'


def parse_gap(text: str) -> Gap:
  """'START_SECONDS:DURATION_MS' -> Gap, e.g. '1.5:64'."""
  m = re.fullmatch(r'\s*([0-9]*\.?[0-9]+)\s*:\s*([0-9]*\.?[0-9]+)\s*', text)
  if not m:
    raise UserError(f"gap {text!r}: expected START_SECONDS:DURATION_MS, e.g. 1.5:64")
  gap = Gap(float(m.group(1)), float(m.group(2)) / 1000)
  if gap.duration <= 0:
    raise UserError(f'gap {text!r}: the duration must be positive')
  return gap


def detect_dropouts(samples: np.ndarray, rate: int, max_ms: float = 64.0,
                    min_ms: float = 1.0) -> Tuple[List[Gap], List[Gap]]:
  """Runs of digital silence (exact zeros in every channel) between min_ms and max_ms.

  Returns (gaps to fill, longer runs that are left alone). Runs that touch the start or
  end of the file are silence before or after the music, not dropouts, and are ignored.
  """
  silent = np.all(samples == 0, axis=1).astype(np.int8)
  edges = np.diff(np.concatenate([[0], silent, [0]]))
  starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
  fill, too_long = [], []
  for s, e in zip(starts, ends):
    if s == 0 or e == len(silent):
      continue
    ms = (e - s) * 1000 / rate
    if ms < min_ms:
      continue
    # A 64 ms run at 44.1 kHz is 2823 samples, 64.01 ms: allow one sample of rounding.
    (fill if ms <= max_ms + 1000 / rate else too_long).append(Gap(s / rate, (e - s) / rate))
  return fill, too_long


# A filler fills one gap of a 16 kHz signal: filler(x16, first, end) returns the samples
# for [first - filler.zone, end + filler.zone).
Filler = Callable[[np.ndarray, int, int], np.ndarray]


def check_gaps(gaps: Sequence[Gap], n_samples: int, rate: int, max_ms: float,
               context: int, path: str) -> List[Tuple[int, int]]:
  """Validates the gaps against the file; returns their 16 kHz [first, end) ranges in order."""
  duration = n_samples / rate
  n16 = int(np.floor(n_samples * RATE / rate))
  ordered = sorted(gaps, key=lambda g: g.start)
  ranges = []
  for gap in ordered:
    if gap.duration * 1000 > max_ms + 1000 / rate + 1e-6:  # one sample of rounding allowed
      raise UserError(f'{path}: gap {gap} is longer than {max_ms:g} ms')
    if gap.start + gap.duration > duration + 1e-9:
      raise UserError(f'{path}: gap {gap} ends beyond the end of the file ({duration:.3f} s)')
    first, end = gap.samples(RATE)
    end = min(end, first + int(round(max_ms * RATE / 1000)))  # that rounding, at 16 kHz
    if first < context or end + context > n16:
      raise UserError(f'{path}: gap {gap} needs {context * 1000 / RATE:g} ms of audio on both sides')
    ranges.append((first, end))
  for i in range(1, len(ranges)):
    if ranges[i][0] < ranges[i - 1][1]:
      raise UserError(f'{path}: gaps {ordered[i - 1]} and {ordered[i]} overlap')
  return ranges


def _ramp(n: int) -> np.ndarray:
  """Raised-cosine fade-in of n samples, strictly between 0 and 1."""
  return np.sin(0.5 * np.pi * (np.arange(n) + 0.5) / n) ** 2


def fill_channel(x16: np.ndarray, ranges: Sequence[Tuple[int, int]], filler, zone: int) -> np.ndarray:
  """Fills every gap of one 16 kHz channel in time order (earlier fills become context)."""
  y = np.array(x16, dtype=np.float64, copy=True)
  for first, end in ranges:
    restored = np.asarray(filler(y, first, end), dtype=np.float64)
    lo, hi = first - zone, end + zone
    if restored.shape != (hi - lo,):
      raise RuntimeError(f'filler returned {restored.shape}, expected {(hi - lo,)}')
    if zone:
      fade = _ramp(zone)
      restored[:zone] = fade * restored[:zone] + (1 - fade) * y[lo:first]
      restored[-zone:] = fade[::-1] * restored[-zone:] + (1 - fade[::-1]) * y[end:hi]
    y[lo:hi] = restored
  return y


def inpaint_samples(samples: np.ndarray, rate: int, gaps: Sequence[Gap], filler, zone: int,
                    context: int, max_ms: float, path: str = '<input>',
                    edge_guard: int = 0) -> np.ndarray:
  """Inpaints [frames, channels] audio at any rate; bit-exact outside gaps and zones.

  edge_guard: for inputs that need resampling, 16 kHz samples added to each side of
  every gap, because the resampling filter smears the damaged gap's edges into the
  context (LPC, which continues the context's last samples, needs this; the
  network's transition zone already covers it).
  """
  guard = edge_guard if rate != RATE else 0
  ranges = check_gaps(gaps, samples.shape[0], rate, max_ms, context + guard, path)
  ranges = [(first - guard, end + guard) for first, end in ranges]
  out = np.array(samples, dtype=np.float64, copy=True)
  for ch in range(samples.shape[1]):
    x16 = audio_file.resample(samples[:, ch], rate, RATE)
    y16 = fill_channel(x16, ranges, filler, zone)
    for first, end in ranges:
      lo16, hi16 = first - zone, end + zone
      # Native-rate samples whose time lies in the changed 16 kHz region.
      lo = int(np.floor(lo16 * rate / RATE))
      hi = min(int(np.ceil(hi16 * rate / RATE)), samples.shape[0])
      if rate == RATE:
        out[lo:hi, ch] = y16[lo:hi]
        continue
      # Resample back only the changed region plus a guard, and splice it in.
      # a16 on the common grid of both rates, so that back[0] falls on a native sample.
      step = RATE // math.gcd(RATE, rate)
      a16 = max(lo16 - RESAMPLE_GUARD, 0) // step * step
      b16 = min(hi16 + RESAMPLE_GUARD, len(y16))
      back = audio_file.resample(y16[a16:b16], RATE, rate)
      offset = a16 * rate // RATE
      out[lo:hi, ch] = back[lo - offset:hi - offset]
  return out


def inpaint_file(in_path: str, out_path: str, gaps: Optional[Sequence[Gap]], filler, zone: int,
                 context: int, max_ms: float, detect: bool = False, log=print) -> List[Gap]:
  """Reads, inpaints and writes (atomically, same format and rate). Returns the gaps filled."""
  audio = audio_file.read(in_path)
  gaps = list(gaps or [])
  if detect:
    found, too_long = detect_dropouts(audio.samples, audio.sample_rate, max_ms)
    for g in too_long:
      log(f'{in_path}: digital silence at {g} is longer than {max_ms:g} ms; left as it is')
    gaps += found
  if not gaps:
    raise UserError(f'{in_path}: no gaps given' + (' and no dropouts found' if detect else
                                                    ' (use --gap or --detect-dropouts)'))
  restored = inpaint_samples(audio.samples, audio.sample_rate, gaps, filler, zone, context, max_ms,
                             in_path, getattr(filler, 'edge_guard', 0))
  audio_file.write(out_path, audio._replace(samples=restored))
  return sorted(gaps, key=lambda g: g.start)


def network_window(first: int, end: int, n_samples: int, sig: SignalConfig) -> int:
  """Start of the L-sample window whose gap [start + Lc, start + Lc + Lg) covers [first, end).

  Centred when possible (Table 3's centred extension); otherwise shifted just enough to
  keep Lc samples of context inside the signal.
  """
  n = end - first
  if n > sig.Lg:
    raise UserError(f'gap of {n} samples is longer than the network gap of {sig.Lg}')
  gap_start = first - (sig.Lg - n) // 2
  lowest, highest = max(end - sig.Lg, sig.Lc), min(first, n_samples - sig.Lc - sig.Lg)
  if lowest > highest:
    raise UserError(f'gap at sample {first} needs {sig.Lc} samples of context on both sides')
  return int(np.clip(gap_start, lowest, highest)) - sig.Lc
