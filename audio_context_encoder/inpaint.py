"""Inpainting gaps in a user's recording (any rate, any channel count).

Each channel is resampled to 16 kHz, each gap is filled there by a *filler*, a function
filler(x16, first, end) -> the samples of [first - zone, end + zone) (methods.Method.fill_gap),
and only the gap and its transition zone are resampled back and spliced into the original
samples, so everything else stays bit-exact:

  * LPC: the gap itself (paper §3.5 fills exactly the gap).
  * network: the gap plus M - a = 384 samples at 16 kHz (24 ms) on each side, where the
    restored signal cross-fades into the original with a raised-cosine ramp (the STFT
    overlap of §2.4).

Gaps shorter than the network's 64 ms are filled by extending them to 64 ms (paper §4.2,
Table 3): centred where the context allows, otherwise shifted as little as possible.
Longer gaps (methods.long_gap_names()) go the same way: the filler only reads a wider piece
(`reach`, the method's methods.Method.needs).
"""

import dataclasses
import math
import re
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from audio_context_encoder import atomic, audio_file
from audio_context_encoder.errors import UserError

RATE = 16000
RESAMPLE_GUARD = 512  # extra 16 kHz samples around a spliced region so filter edges stay outside
# 16 kHz samples a filler may read beyond its gap: the context plus a 64 ms extension.
PIECE_REACH = 2048 + 1024


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
  runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
  return classify_runs(runs, len(silent), rate, max_ms, min_ms)


def classify_runs(runs, n_samples: int, rate: int, max_ms: float = 64.0,
                  min_ms: float = 1.0) -> Tuple[List[Gap], List[Gap]]:
  """[start, end) runs of silence -> (dropouts to fill, too long); see detect_dropouts."""
  fill, too_long = [], []
  for s, e in runs:
    if s == 0 or e == n_samples:
      continue
    ms = (e - s) * 1000 / rate
    if ms < min_ms:
      continue
    # A 64 ms run at 44.1 kHz is 2823 samples, 64.01 ms: allow one sample of rounding.
    (fill if ms <= max_ms + 1000 / rate else too_long).append(Gap(s / rate, (e - s) / rate))
  return fill, too_long


def _gap_range(gap: Gap, max_ms: float) -> Tuple[int, int]:
  first, end = gap.samples(RATE)
  return first, min(end, first + int(round(max_ms * RATE / 1000)))  # one sample of rounding


def gap_problem(gap: Gap, n_samples: int, rate: int, max_ms: float, context: int) -> Optional[str]:
  """Why `gap` cannot be filled on its own (too long, beyond the end, too little context)."""
  duration = n_samples / rate
  if gap.duration * 1000 > max_ms + 1000 / rate + 1e-6:  # one sample of rounding allowed
    return f'gap {gap} is longer than {max_ms:g} ms'
  if gap.start + gap.duration > duration + 1e-9:
    return f'gap {gap} ends beyond the end of the file ({duration:.3f} s)'
  first, end = _gap_range(gap, max_ms)
  if first < context or end + context > int(np.floor(n_samples * RATE / rate)):
    return f'gap {gap} needs {context * 1000 / RATE:g} ms of audio on both sides'
  return None


def pair_problem(a: Gap, b: Gap, max_ms: float, context: int, guard: int) -> Optional[str]:
  """Why gaps a <= b cannot both be filled: overlapping, or closer than the context, which
  would make one hole longer than the maximum gap out of several short ones."""
  (_, end_a), (first_b, _) = _gap_range(a, max_ms), _gap_range(b, max_ms)
  if first_b < end_a:
    return f'gaps {a} and {b} overlap'
  need = context + 2 * guard
  if first_b - end_a < need:
    return (f'gaps {a} and {b} are {(first_b - end_a) * 1000 / RATE:g} ms apart; gaps must be '
            f'at least {need * 1000 / RATE:g} ms apart (the context each needs on both sides)')
  return None


def check_gaps(gaps: Sequence[Gap], n_samples: int, rate: int, max_ms: float,
               context: int, path: str, guard: int = 0, hint: str = '') -> List[Tuple[int, int]]:
  """Validates the gaps against the file; returns their 16 kHz [first, end) ranges in order.

  `context` counts the guard: each gap needs context 16 kHz samples on both sides in the
  file, and context + guard of untouched audio between neighbouring gaps. hint: appended to
  a refusal (the method's methods.Method.hint).
  """
  ordered = sorted(gaps, key=lambda g: g.start)
  for gap in ordered:
    problem = gap_problem(gap, n_samples, rate, max_ms, context)
    if problem:
      raise UserError(f'{path}: {problem}{hint}')
  for a, b in zip(ordered, ordered[1:]):
    problem = pair_problem(a, b, max_ms, context - guard, guard)
    if problem:
      raise UserError(f'{path}: {problem}{hint}')
  return [_gap_range(g, max_ms) for g in ordered]


def fillable(fixed: Sequence[Gap], found: Sequence[Gap], n_samples: int, rate: int, max_ms: float,
             context: int, guard: int = 0) -> Tuple[List[Gap], List[Tuple[Gap, str]]]:
  """Detected dropouts that can be filled beside the user's gaps, in time order, and the
  others with the reason (too close to the file's ends or to another gap)."""
  keep, refused = [], []
  for gap in sorted(found, key=lambda g: g.start):
    problem = gap_problem(gap, n_samples, rate, max_ms, context)
    for other in list(fixed) + keep:
      if problem:
        break
      a, b = sorted([gap, other], key=lambda g: g.start)
      problem = pair_problem(a, b, max_ms, context - guard, guard)
    if problem:
      refused.append((gap, problem))
    else:
      keep.append(gap)
  return keep, refused


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


def patches_for(read: Callable[[int, int], np.ndarray], n_samples: int, rate: int,
                ranges: Sequence[Tuple[int, int]], filler, zone: int,
                path: str = '<input>', reach: int = None) -> List[Tuple[int, np.ndarray]]:
  """(native first frame, new float64 samples [n, channels]) for each 16 kHz gap range.

  Only a window around each gap is read (`read(lo, hi)` -> float64 [hi - lo, channels] at
  the native rate), resampled to 16 kHz, filled, and its changed part resampled back, so
  memory does not grow with the file. Earlier patches are visible to later reads.
  reach: 16 kHz samples the filler may read on each side of a gap (default PIECE_REACH).
  A given reach (long-gap methods, which read beyond the context they need) stops at the
  next gap, not filled yet: its damaged samples never reach the filler.
  """
  n16 = int(np.floor(n_samples * RATE / rate))
  step = RATE // math.gcd(RATE, rate)  # 16 kHz samples between points of both grids
  stops = [first for first, _ in ranges[1:]] + [n16] if reach is not None else [n16] * len(ranges)
  reach = (PIECE_REACH if reach is None else reach) + RESAMPLE_GUARD
  patches: List[Tuple[int, np.ndarray]] = []

  def read_patched(lo, hi):
    x = np.array(read(lo, hi), np.float64)
    for p_lo, values in patches:
      a, b = max(lo, p_lo), min(hi, p_lo + len(values))
      if a < b:
        x[a - lo:b - lo] = values[a - p_lo:b - p_lo]
    return x

  for (first, end), stop in zip(ranges, stops):
    lo16, hi16 = first - zone, end + zone
    # Native-rate samples whose time lies in the changed 16 kHz region.
    lo = int(np.floor(lo16 * rate / RATE))
    hi = min(int(np.ceil(hi16 * rate / RATE)), n_samples)
    # The 16 kHz piece [a16, b16) the filler sees, a16 on the common grid of both rates.
    a16 = max(first - reach, 0) // step * step
    b16 = min(end + reach, max(stop, hi16 + RESAMPLE_GUARD), n16)  # room to resample back
    a, b = a16 * rate // RATE, min(int(np.ceil(b16 * rate / RATE)) + 64, n_samples)
    native = read_patched(a, b)
    if not np.all(np.isfinite(native)):
      raise UserError(f'{path}: the audio around the gap at {first / RATE:g} s holds NaN or '
                      'infinite samples')
    new = np.empty((hi - lo, native.shape[1]))
    for ch in range(native.shape[1]):
      x16 = audio_file.resample(native[:, ch], rate, RATE)[:b16 - a16]
      y16 = fill_channel(x16, [(first - a16, end - a16)], filler, zone)
      if rate == RATE:
        new[:, ch] = y16[lo - a16:hi - a16]
        continue
      # Resample back the changed region plus a guard (c16 on the common grid), splice it in.
      c16 = max(lo16 - RESAMPLE_GUARD - a16, 0) // step * step
      d16 = min(hi16 + RESAMPLE_GUARD - a16, len(y16))
      back = audio_file.resample(y16[c16:d16], RATE, rate)
      offset = (a16 + c16) * rate // RATE
      new[:, ch] = back[lo - offset:hi - offset]
    patches.append((lo, new))
  return patches


def inpaint_samples(samples: np.ndarray, rate: int, gaps: Sequence[Gap], filler, zone: int,
                    context: int, max_ms: float, path: str = '<input>',
                    edge_guard: int = 0, reach: int = None) -> np.ndarray:
  """Inpaints [frames, channels] audio at any rate; bit-exact outside gaps and zones.

  edge_guard: for inputs that need resampling, 16 kHz samples added to each side of
  every gap, because the resampling filter smears the damaged gap's edges into the
  context (LPC, which continues the context's last samples, needs this; the
  network's transition zone already covers it). reach: see patches_for.
  """
  guard = edge_guard if rate != RATE else 0
  ranges = check_gaps(gaps, samples.shape[0], rate, max_ms, context + guard, path, guard)
  ranges = [(first - guard, end + guard) for first, end in ranges]
  out = np.array(samples, dtype=np.float64, copy=True)
  for lo, values in patches_for(lambda a, b: samples[a:b], samples.shape[0], rate, ranges,
                                filler, zone, path, reach):
    out[lo:lo + len(values)] = values
  return out


def dropouts_of(src: audio_file.Source, max_ms: float) -> Tuple[List[Gap], List[Gap]]:
  """detect_dropouts over a file, streamed block by block."""
  runs, begin = [], None
  for start, raw in audio_file.blocks(src):
    silent = np.all(raw == 0, axis=1).astype(np.int8)
    edges = np.diff(np.concatenate([[1 if begin is not None else 0], silent]))
    for i in np.flatnonzero(edges):
      if edges[i] == 1:
        begin = start + i
      else:
        runs.append((begin, start + i))
        begin = None
  if begin is not None:
    runs.append((begin, src.frames))
  return classify_runs(runs, src.frames, src.sample_rate, max_ms)


def inpaint_file(in_path: str, out_path: str, gaps: Optional[Sequence[Gap]], filler, zone: int,
                 context: int, max_ms: float, detect: bool = False, log=print,
                 edge_guard: int = 0, reach: int = None, detect_ms: float = None,
                 hint: str = '') -> List[Gap]:
  """Reads, inpaints and writes (atomically, in the format the output's extension names).

  Everything that can be refused is checked before the filling: the gaps, the output's
  format and folder. Returns the gaps filled. Detected dropouts that cannot be filled
  are logged and left alone. reach: see patches_for; detect_ms: the longest run of
  silence detected (default max_ms); hint: see check_gaps.
  """
  src = audio_file.open_source(in_path)
  atomic.check_writable(out_path)
  fmt, subtype = audio_file.output_format(out_path, src.format, src.subtype)
  rate = src.sample_rate
  guard = edge_guard if rate != RATE else 0
  gaps = list(gaps or [])
  ranges = check_gaps(gaps, src.frames, rate, max_ms, context + guard, in_path, guard, hint)
  if detect:
    detect_ms = max_ms if detect_ms is None else detect_ms
    found, too_long = dropouts_of(src, detect_ms)
    for g in too_long:
      log(f'{in_path}: digital silence at {g} is longer than {detect_ms:g} ms; left as it is')
    found, refused = fillable(gaps, found, src.frames, rate, max_ms, context + guard, guard)
    for g, why in refused:
      log(f'{in_path}: dropout at {g} left as it is: {why}')
    gaps += found
    ranges = check_gaps(gaps, src.frames, rate, max_ms, context + guard, in_path, guard, hint)
  if not gaps:
    raise UserError(f'{in_path}: no gaps given' + (' and no dropout that can be filled found'
                                                    if detect else ' (use --gap or --detect-dropouts)'))
  atomic.check_writable(out_path, audio_file.expected_size(src, fmt, subtype))
  ranges = [(first - guard, end + guard) for first, end in ranges]
  read = lambda a, b: audio_file.to_float(audio_file.read_raw(src, a, b))
  patches = patches_for(read, src.frames, rate, ranges, filler, zone, in_path, reach)
  audio_file.write_patched(out_path, src, patches, fmt, subtype)
  return sorted(gaps, key=lambda g: g.start)

