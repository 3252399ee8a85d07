"""Inpainting gaps in a user's recording (any rate, any channel count).

Each channel is resampled to 16 kHz, each gap is filled there by a *filler*, a function
filler(x16, first, end) -> the samples of [first - zone, end + zone) (methods.Method.fill_gap),
and only the gap and its transition zone are resampled back and spliced into the original
samples, so everything else stays bit-exact:

  * LPC: the gap itself (paper §3.5 fills exactly the gap).
  * network: the gap plus M - a = 384 samples at 16 kHz (24 ms) on each side, where the
    restored signal cross-fades into the original with a raised-cosine ramp (the STFT
    overlap of §2.4).
  * at rates other than 16 kHz, the method's edge guard too (LPC: 1 ms), and nothing beyond
    ceil((zone + guard) * rate / 16000) samples of the file on each side of the gap.

A fill never depends on the samples of any gap: before a piece of the file is resampled,
the samples of its gap and of every later gap in it (not filled yet) are set to zero, and
what the filler reads stops at the next gap. Earlier gaps are already filled.

Gaps shorter than the network's 64 ms are filled by extending them to 64 ms (paper §4.2,
Table 3): centred where the context allows, otherwise shifted as little as possible.
Longer gaps (methods.long_gap_names()) go the same way: the filler only reads a wider piece
(`reach`, the method's methods.Method.needs).
"""

import bisect
import dataclasses
import math
import re
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from scipy import signal as sps

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_file
from audio_context_encoder.dsp import janssen
from audio_context_encoder import methods
from audio_context_encoder.config import GAP_LENGTHS, JANSSEN
from audio_context_encoder.common.errors import UserError

RATE = 16000
RESAMPLE_GUARD = 512  # extra 16 kHz samples around a spliced region so filter edges stay outside
# 16 kHz samples a filler may read beyond its gap: the context plus a 64 ms extension.
PIECE_REACH = 2048 + 1024
MAX_START_S = 1e9  # beyond any file (32 years), and still exact enough as a float
# The paper's longest gap: the paper's methods fill up to it, --detect-dropouts finds up to it.
SHORT_MS = max(GAP_LENGTHS)
# The band above 8 kHz of a file above 16 kHz, filled at its own rate (a deviation from the
# 16 kHz paper, on by default for such files; --no-full-band): gap-wise Janssen, its defaults.
FULL_BAND = JANSSEN


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
  shown = text if len(text) <= 40 else text[:37] + '...'
  m = re.fullmatch(r'\s*(-?[0-9]*\.?[0-9]+)\s*:\s*(-?[0-9]*\.?[0-9]+)\s*', text)
  if not m:
    raise UserError(f"gap {shown!r}: expected START_SECONDS:DURATION_MS, e.g. 1.5:64")
  start, duration_ms = float(m.group(1)), float(m.group(2))
  if start < 0:
    raise UserError(f'gap {shown!r}: the start must be 0 s or later')
  if not start <= MAX_START_S:  # inf too: a 400-digit number
    raise UserError(f'gap {shown!r}: the start lies beyond any audio file')
  if duration_ms <= 0:
    raise UserError(f'gap {shown!r}: the duration must be positive')
  if not duration_ms <= MAX_START_S:
    raise UserError(f'gap {shown!r}: the duration is longer than any audio file')
  return Gap(start, duration_ms / 1000)


def longest(max_ms: float, rate: int) -> int:
  """The most samples of the file a gap of at most max_ms may cover at `rate`. At 16 kHz they
  are the samples filled, so max_ms's own count; at other rates one more, for a gap off the
  rate's grid (64 ms at 44.1 kHz is 2822.4 samples: a 64 ms gap covers 2823), whose edge
  samples the edge guard or the zone then cover."""
  return int(np.floor(max_ms * rate / 1000 + 1e-6)) + (0 if rate == RATE else 1)


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
    if s == 0 or e == n_samples or (e - s) * 1000 / rate < min_ms:
      continue
    (fill if e - s <= longest(max_ms, rate) else too_long).append(Gap(s / rate, (e - s) / rate))
  return fill, too_long


def n_16k(n_samples: int, rate: int) -> int:
  """16 kHz samples that lie inside a file of n_samples at `rate`."""
  return n_samples * RATE // rate


@dataclasses.dataclass(frozen=True)
class Hole:
  """A gap as the samples it touches: [first, end) of the file at its own rate, and the 16 kHz
  samples [first16, end16) the filler fills: the same time, at most the method's longest gap,
  widened by `guard` on each side (the edge guard, where the file is resampled).

  Everything derives from the gap's samples in the file, so a detected dropout and the same
  gap given with --gap are one hole: the same edges, fill and zone.
  """

  gap: Gap
  first: int
  end: int
  first16: int
  end16: int
  guard: int

  @staticmethod
  def of(gap: Gap, rate: int, max_ms: float, guard: int = 0) -> 'Hole':
    first, end = gap.samples(rate)
    first16 = first * RATE // rate
    end16 = min(-(-end * RATE // rate), first16 + int(round(max_ms * RATE / 1000)))
    return Hole(gap, first, end, first16 - guard, end16 + guard, guard)

  def splice(self, zone: int, rate: int, n_samples: int) -> Tuple[int, int]:
    """[lo, hi) of the file that the filled hole replaces: the 16 kHz change [first16 - zone,
    end16 + zone) in time, and at most ceil((zone + guard) * rate / 16000) samples on each side
    of [first, end) (the documented zone)."""
    lo16, hi16 = self.first16 - zone, self.end16 + zone
    if rate == RATE:
      return max(lo16, 0), min(hi16, n_samples)
    reach = -(-(zone + self.guard) * rate // RATE)
    lo = max(self.first - reach, -(-lo16 * rate // RATE), 0)
    hi = min(self.end + reach, -(-hi16 * rate // RATE), n_samples)
    return lo, hi


def gap_problem(gap: Gap, n_samples: int, rate: int, max_ms: float, context: int,
                guard: int = 0) -> Optional[str]:
  """Why `gap` cannot be filled on its own (too long, beyond the end, too little context).
  context: 16 kHz samples of audio the method needs on each side of the (guarded) hole."""
  first, end = gap.samples(rate)
  if end - first > longest(max_ms, rate):
    return f'gap {gap} is longer than {max_ms:g} ms'
  if end > n_samples:
    return f'gap {gap} ends beyond the end of the file ({n_samples / rate:.3f} s)'
  hole = Hole.of(gap, rate, max_ms, guard)
  if hole.first16 < context or hole.end16 + context > n_16k(n_samples, rate):
    return f'gap {gap} needs {(context + guard) * 1000 / RATE:g} ms of audio on both sides'
  return None


def pair_problem(a: Hole, b: Hole, context: int) -> Optional[str]:
  """Why holes a <= b cannot both be filled: overlapping, or closer than the context (guards
  included), which would make one hole longer than the maximum gap out of several short ones."""
  apart = (b.first16 + b.guard) - (a.end16 - a.guard)  # between the unguarded holes
  if b.first < a.end or apart < 0:
    return f'gaps {a.gap} and {b.gap} overlap'
  need = context + a.guard + b.guard
  if apart < need:
    return (f'gaps {a.gap} and {b.gap} are {apart * 1000 / RATE:g} ms apart; gaps must be at '
            f'least {need * 1000 / RATE:g} ms apart (the context each needs on both sides)')
  return None


def check_gaps(gaps: Sequence[Gap], n_samples: int, rate: int, max_ms: float,
               context: int, path: str, guard: int = 0, hint: str = '') -> List[Hole]:
  """Validates the gaps against the file; returns their holes in time order.

  context: 16 kHz samples each needs on each side of its guarded hole, in the file and
  between neighbouring gaps. hint: appended to a refusal (the method's methods.Method.hint).
  """
  ordered = sorted(gaps, key=lambda g: g.start)
  for gap in ordered:
    problem = gap_problem(gap, n_samples, rate, max_ms, context, guard)
    if problem:
      raise UserError(f'{path}: {problem}{hint}')
  holes = [Hole.of(g, rate, max_ms, guard) for g in ordered]
  for a, b in zip(holes, holes[1:]):
    problem = pair_problem(a, b, context)
    if problem:
      raise UserError(f'{path}: {problem}{hint}')
  return holes


def fillable(fixed: Sequence[Hole], found: Sequence[Gap], n_samples: int, rate: int,
             max_ms: float, context: int,
             guard: int = 0) -> Tuple[List[Gap], List[Tuple[Gap, str]]]:
  """Detected dropouts that can be filled beside the user's gaps (`fixed`, valid, in time
  order), in time order, and the others with the reason (too close to the file's ends or to
  another gap). Each is checked against its nearest neighbours only: O(n log n)."""
  starts = [h.first for h in fixed]
  keep, kept, refused = [], [], []
  for gap in sorted(found, key=lambda g: g.start):
    problem = gap_problem(gap, n_samples, rate, max_ms, context, guard)
    if not problem:
      hole = Hole.of(gap, rate, max_ms, guard)
      i = bisect.bisect_right(starts, hole.first)
      near = fixed[max(i - 1, 0):i + 1] + kept[-1:]
      for other in near:
        a, b = sorted([hole, other], key=lambda h: h.first)
        problem = pair_problem(a, b, context)
        if problem:
          break
    if problem:
      refused.append((gap, problem))
    else:
      keep.append(gap)
      kept.append(hole)
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


def high_band_filler(rate: int) -> Callable:
  """fill(band, first, end) -> the gap's samples of the band above 8 kHz at the file's rate:
  gap-wise Janssen's least-squares fill (FULL_BAND), plus noise shaped like the band around the
  gap for the energy the fill lacks. Above 8 kHz music is mostly noise-like, and a least-squares
  fill of noise is the expected value, far quieter than the noise (measured: 11 dB under the
  original in the gaps of real music); the added noise (seeded by the gap's position, so the fill
  still reads no gap) brings the band's energy back, as codecs' noise filling does."""
  def fill(band, first, end):
    estimate = janssen.gapwise(band, first, end, FULL_BAND, rate)
    return estimate + _missing_noise(band, first, end, estimate, rate)
  return fill


NOISE_CONTEXT_MS = 20.0  # the band's energy and spectral shape are measured this close to a gap
NOISE_ORDER = 16  # AR order of that shape


def _missing_noise(band, first: int, end: int, estimate, rate: int) -> np.ndarray:
  """Noise with the AR envelope of the band's NOISE_CONTEXT_MS on each side of the gap and the
  power the estimate lacks (the context's mean power minus the estimate's); zero if none."""
  reach = int(round(NOISE_CONTEXT_MS * rate / 1000))
  context = np.concatenate([band[max(first - reach, 0):first], band[end:end + reach]])
  n = end - first
  need = np.mean(context ** 2) - np.mean(np.asarray(estimate) ** 2) if context.size else 0.0
  if need <= 0 or context.size <= 4 * NOISE_ORDER:
    return np.zeros(n)
  a = janssen.ar_coefficients(context, NOISE_ORDER, 'burg')
  white = np.random.default_rng(first).standard_normal(n + 512)
  shaped = sps.lfilter([1.0], a, white)[512:]
  return shaped * np.sqrt(need / max(np.mean(shaped ** 2), 1e-30))


def patches_for(read: Callable[[int, int], np.ndarray], n_samples: int, rate: int,
                holes: Sequence[Hole], filler, zone: int,
                path: str = '<input>', reach: int = None,
                high_fill: Callable = None) -> List[Tuple[int, np.ndarray]]:
  """(first frame, new float64 samples [n, channels]) of the file for each hole, in time order.

  Only a piece around each hole is read (`read(lo, hi)` -> float64 [hi - lo, channels] at
  the file's rate), its unfilled gaps zeroed, resampled to 16 kHz, filled, and its changed
  part resampled back (Hole.splice), so memory does not grow with the file. Earlier patches
  are visible to later reads; the piece stops at the next hole.
  reach: 16 kHz samples the filler may read on each side of a hole (default PIECE_REACH).
  high_fill (a file above 16 kHz): the band the 16 kHz fill cannot hold, H = x - L with L the
  piece's own 16 kHz round trip (so L + H is the input exactly), is kept as it is in the zone
  and filled by high_fill(H, first, end) in the hole and its edge guard, then added back.
  """
  n16 = n_16k(n_samples, rate)
  step = RATE // math.gcd(RATE, rate)  # 16 kHz samples between points of both grids
  stops = [h.first16 for h in holes[1:]] + [n16]
  reach = (PIECE_REACH if reach is None else reach) + RESAMPLE_GUARD
  patches: List[Tuple[int, np.ndarray]] = []

  def read_patched(lo, hi):
    x = np.array(read(lo, hi), np.float64)
    for p_lo, values in patches:
      a, b = max(lo, p_lo), min(hi, p_lo + len(values))
      if a < b:
        x[a - lo:b - lo] = values[a - p_lo:b - p_lo]
    return x

  for i, (hole, stop) in enumerate(zip(holes, stops)):
    lo16, hi16 = hole.first16 - zone, hole.end16 + zone
    lo, hi = hole.splice(zone, rate, n_samples)
    # The 16 kHz piece [a16, b16) the filler sees, a16 on the common grid of both rates.
    a16 = max(hole.first16 - reach, 0) // step * step
    b16 = min(hole.end16 + reach, max(stop, hi16 + RESAMPLE_GUARD), n16)  # room to resample back
    a, b = a16 * rate // RATE, min(int(np.ceil(b16 * rate / RATE)) + 64, n_samples)
    native = read_patched(a, b)
    for later in holes[i:]:  # this gap and the later ones, not filled yet: never read
      native[min(max(later.first - a, 0), b - a):min(max(later.end - a, 0), b - a)] = 0
    if not np.all(np.isfinite(native)):
      raise UserError(f'{path}: the audio around the gap {hole.gap} holds NaN or infinite '
                      'samples')
    new = np.empty((hi - lo, native.shape[1]))
    for ch in range(native.shape[1]):
      x16 = audio_file.resample(native[:, ch], rate, RATE)[:b16 - a16]
      y16 = fill_channel(x16, [(hole.first16 - a16, hole.end16 - a16)], filler, zone)
      if rate == RATE:
        new[:, ch] = y16[lo - a16:hi - a16]
        continue
      # Resample back the changed region plus a guard (c16 on the common grid), splice it in.
      c16 = max(lo16 - RESAMPLE_GUARD - a16, 0) // step * step
      d16 = min(hi16 + RESAMPLE_GUARD - a16, len(y16))
      back = audio_file.resample(y16[c16:d16], RATE, rate)
      offset = (a16 + c16) * rate // RATE
      new[:, ch] = back[lo - offset:hi - offset]
      if high_fill is not None and rate > RATE:
        new[:, ch] += _high_band(native[:, ch], x16, rate, hole, a, lo, hi, high_fill)
    patches.append((lo, new))
  return patches


def _high_band(native, x16, rate: int, hole: Hole, a: int, lo: int, hi: int, high_fill) -> np.ndarray:
  """The band above 8 kHz over the splice region [lo, hi): the piece's H = x - L (L: the 16 kHz
  round trip of the piece, gap zeroed), filled by high_fill over the hole and up to 1 ms on
  each side of it, where the zeroed gap smears H (never beyond the splice region)."""
  low = audio_file.resample(x16, RATE, rate)
  band = native[:len(low)] - low[:len(native)]
  guard = min(-(-16 * rate // RATE), hole.first - lo, hi - hole.end)
  f, e = hole.first - guard - a, hole.end + guard - a
  band = band.copy()
  band[f:e] = high_fill(band, f, e)
  return band[lo - a:hi - a]


def inpaint_samples(samples: np.ndarray, rate: int, gaps: Sequence[Gap], filler, zone: int,
                    context: int, max_ms: float, path: str = '<input>',
                    edge_guard: int = 0, reach: int = None, full_band: bool = True) -> np.ndarray:
  """Inpaints [frames, channels] audio at any rate; bit-exact outside gaps and zones.

  edge_guard: for inputs that need resampling, 16 kHz samples added to each side of
  every gap, because the resampling filter smears the gap's edges into the context
  (LPC, which continues the context's last samples, needs this; the network's
  transition zone already covers it). reach: see patches_for. full_band: above 16 kHz, also
  fill the band above 8 kHz at the file's rate (patches_for's high_fill).
  """
  guard = edge_guard if rate != RATE else 0
  holes = check_gaps(gaps, samples.shape[0], rate, max_ms, context, path, guard)
  out = np.array(samples, dtype=np.float64, copy=True)
  high = high_band_filler(rate) if full_band else None
  for lo, values in patches_for(lambda a, b: samples[a:b], samples.shape[0], rate, holes,
                                filler, zone, path, reach, high):
    out[lo:lo + len(values)] = values
  return out


def method_options(method, gaps: Sequence[Gap], detect: bool = False) -> dict:
  """What inpaint_samples and inpaint_file take from a methods.Method for these gaps: its
  filler, zone, context and reach for the longest gap (a detected dropout can be 64 ms)."""
  lengths = [g.samples(RATE)[1] - g.samples(RATE)[0] for g in gaps]
  context, reach = method.needs(max(lengths + [SHORT_MS * RATE // 1000 if detect else 1]))
  return {'filler': method.fill_gap, 'zone': method.zone, 'context': context,
          'max_ms': method.max_ms, 'edge_guard': method.edge_guard, 'reach': reach}


def fill_gaps(samples, rate: int, gaps, method='lpc', full_band: bool = True,
              **options) -> np.ndarray:
  """The gaps of an array filled: what `inpaint` does to a file, from Python.

  samples: [frames] or [frames, channels] at `rate` (any rate); gaps: Gap or
  (start_seconds, duration_ms) pairs; method: a registered name (methods.all_names()) or a
  methods.Method; options: the method's (e.g. model='runs/x/best.keras' for 'network').
  The same refusals as the command line (UserError); bit-exact outside the gaps and zones.
  """
  if isinstance(method, str):
    methods.check_model(method, options.get('model'))
    method = methods.get(method, **options)
  gaps = [g if isinstance(g, Gap) else Gap(float(g[0]), float(g[1]) / 1000) for g in gaps]
  x = np.asarray(samples, np.float64)
  y = inpaint_samples(x[:, None] if x.ndim == 1 else x, rate, gaps, full_band=full_band,
                      **method_options(method, gaps))
  return y[:, 0] if x.ndim == 1 else y


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


def covering(given: Sequence[Gap], rate: int) -> Callable[[Gap], Optional[Gap]]:
  """run -> the user's gap (`given`, sorted by start, not overlapping) that overlaps the silent
  run, if any: such a run is the user's to fill, not a dropout. O(log n) a run."""
  spans = [g.samples(rate) for g in given]
  starts = [first for first, _ in spans]

  def lookup(run: Gap) -> Optional[Gap]:
    first, end = run.samples(rate)
    i = bisect.bisect_right(starts, first)
    for j in (i - 1, i):
      if 0 <= j < len(spans) and spans[j][0] < end and first < spans[j][1]:
        return given[j]
    return None

  return lookup


def inpaint_file(in_path: str, out_path: str, gaps: Optional[Sequence[Gap]], method: methods.Method,
                 detect: bool = False, log=print, full_band: bool = True) -> List[Gap]:
  """Reads, inpaints with `method` and writes (atomically, in the format the output's extension
  names).

  Everything that can be refused is checked before the filling: the gaps, the output's
  format and folder, and that the whole input decodes. Returns the gaps filled. Detected
  dropouts (runs of digital silence up to the method's longest gap, at most SHORT_MS) that
  cannot be filled are logged and left alone. full_band: see inpaint_samples.
  """
  options = method_options(method, gaps or [], detect)
  filler, zone, context, max_ms = (options[k] for k in ('filler', 'zone', 'context', 'max_ms'))
  edge_guard, reach, hint = options['edge_guard'], options['reach'], method.hint
  detect_ms = min(method.max_ms, SHORT_MS)
  src = audio_file.open_source(in_path)
  atomic.check_writable(out_path)
  fmt, subtype = audio_file.output_format(out_path, src.format, src.subtype, src.sample_rate)
  rate = src.sample_rate
  guard = edge_guard if rate != RATE else 0
  gaps = sorted(gaps or [], key=lambda g: g.start)
  holes = check_gaps(gaps, src.frames, rate, max_ms, context, in_path, guard, hint)
  if detect:
    found, too_long = dropouts_of(src, detect_ms)  # decodes the whole file
    given_over = covering(gaps, rate)
    runs = [(run, given_over(run), run_is_long) for run_is_long, group in ((True, too_long),
                                                                           (False, found))
            for run in group]
    for run, given, run_is_long in sorted(runs, key=lambda r: r[0].start):
      if given is not None:
        log(f'{in_path}: digital silence at {run} overlaps --gap {given}; the given gap is filled')
      elif run_is_long:
        log(f'{in_path}: digital silence at {run} is longer than {detect_ms:g} ms; left as it is')
    found = [run for run, given, run_is_long in runs if not run_is_long and given is None]
    found, refused = fillable(holes, found, src.frames, rate, max_ms, context, guard)
    for g, why in refused:
      log(f'{in_path}: dropout at {g} left as it is: {why}')
    gaps = sorted(gaps + found, key=lambda g: g.start)
    holes = check_gaps(gaps, src.frames, rate, max_ms, context, in_path, guard, hint)
  else:
    audio_file.check_decodes(src)
  if not gaps:
    raise UserError(f'{in_path}: no gaps given' + (' and no dropout that can be filled found'
                                                    if detect else ' (use --gap or --detect-dropouts)'))
  atomic.check_writable(out_path, audio_file.expected_size(src, fmt, subtype))
  read = lambda a, b: audio_file.to_float(audio_file.read_raw(src, a, b))
  high = high_band_filler(rate) if full_band else None
  patches = patches_for(read, src.frames, rate, holes, filler, zone, in_path, reach, high)
  audio_file.write_patched(out_path, src, patches, fmt, subtype)
  return gaps
