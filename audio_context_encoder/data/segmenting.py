"""Silence rule, 320 ms windows every 32 ms and the gap-RMS filter (paper §3.2).

Silence: the paper says only "the silence was removed". We follow the authors'
code: cut the track into consecutive frames of 1024 samples (the last may be
shorter) and keep the span from the first to the last frame whose RMS exceeds
1e-2; silence inside a track is not spliced out (that would create artificial
jumps), the gap-RMS filter drops windows whose gap falls in it instead.

Windows: the first starts at the first kept sample, then one every 512 samples
(32 ms) while the 5120-sample window lies inside the kept span. Each record
also carries `margin` (256) samples on each side, taken from the track even
where they lie in trimmed silence, zeros only beyond the ends of the track.

Filter: a window is kept if its 64 ms or its 48 ms centred gap has RMS >= 1e-4;
both RMS values are stored so each layout (and the reader) filters exactly.
"""

import dataclasses
from typing import Optional, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from audio_context_encoder.config import CONTEXT_LENGTHS, GAP_LENGTHS, DataConfig


def trim_silence(x: np.ndarray, frame_length: int, threshold: float) -> Tuple[int, int]:
  """[start, end) from the first to the last frame with RMS > threshold; (0, 0) if none."""
  n = len(x)
  if n == 0:
    return 0, 0
  n_frames = -(-n // frame_length)
  padded = np.zeros(n_frames * frame_length, np.float64)
  padded[:n] = x
  energy = np.sum(padded.reshape(n_frames, frame_length) ** 2, axis=1)
  lengths = np.full(n_frames, frame_length, np.float64)
  lengths[-1] = n - (n_frames - 1) * frame_length
  loud = np.flatnonzero(np.sqrt(energy / lengths) > threshold)
  if loud.size == 0:
    return 0, 0
  return int(loud[0] * frame_length), int(min((loud[-1] + 1) * frame_length, n))


def centre_clip(start: int, end: int, max_length: Optional[int]) -> Tuple[int, int]:
  """The central `max_length` samples of [start, end) (FMA clips are central 30 s)."""
  if max_length is None or end - start <= max_length:
    return start, end
  s = start + (end - start - max_length) // 2
  return s, s + max_length


def window_starts(start: int, end: int, L: int, hop: int) -> np.ndarray:
  """Starts of the L-sample windows every `hop` samples inside [start, end)."""
  if end - start < L:
    return np.zeros(0, np.int64)
  return np.arange(start, end - L + 1, hop, dtype=np.int64)


def gap_rms(x: np.ndarray, starts: np.ndarray, gap_ms: int, chunk: int = 4096) -> np.ndarray:
  """RMS of the centred gap (64 ms: samples [2048, 3072); 48 ms: [2176, 2944)) of each window."""
  Lg, Lc = GAP_LENGTHS[gap_ms], CONTEXT_LENGTHS[gap_ms]
  out = np.zeros(len(starts), np.float64)
  if len(starts) == 0:
    return out
  view = sliding_window_view(x, Lg)
  for i in range(0, len(starts), chunk):
    g = view[starts[i:i + chunk] + Lc].astype(np.float64)
    out[i:i + chunk] = np.sqrt(np.mean(g * g, axis=1))
  return out


def extract(x: np.ndarray, starts: np.ndarray, L: int, margin: int) -> np.ndarray:
  """Windows [N, L + 2 margin]: samples [start - margin, start + L + margin), zero outside x."""
  padded = np.concatenate([np.zeros(margin, x.dtype), x, np.zeros(margin, x.dtype)])
  view = sliding_window_view(padded, L + 2 * margin)
  return np.ascontiguousarray(view[starts])  # padded index start <-> x index start - margin


@dataclasses.dataclass
class Segments:
  """Windows of one track, before extraction (offsets index the 16 kHz track)."""

  offsets: np.ndarray  # int64 [N] first central sample of each kept window
  rms_64: np.ndarray  # float64 [N]
  rms_48: np.ndarray  # float64 [N]
  n_windows: int  # windows cut before the RMS filter
  trimmed: Tuple[int, int]  # kept span after silence trimming (and clipping)


def segment_track(x: np.ndarray, L: int = 5120, data: DataConfig = DataConfig(),
                  max_length: Optional[int] = None) -> Segments:
  """Silence rule, windowing and gap-RMS filter for one mono 16 kHz track."""
  start, end = trim_silence(x, data.silence_frame_length, data.silence_rms_threshold)
  start, end = centre_clip(start, end, max_length)
  starts = window_starts(start, end, L, data.segment_hop)
  r64 = gap_rms(x, starts, 64)
  r48 = gap_rms(x, starts, 48)
  thr = data.gap_rms_threshold
  keep = (r64 >= thr) | (r48 >= thr)
  return Segments(starts[keep], r64[keep], r48[keep], len(starts), (start, end))


def fit_note(x: np.ndarray, length: int) -> np.ndarray:
  """A note cut or zero-padded to `length` samples (NSynth notes are 4 s)."""
  if len(x) >= length:
    return x[:length]
  return np.concatenate([x, np.zeros(length - len(x), x.dtype)])
