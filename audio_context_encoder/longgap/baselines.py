"""Long-gap baselines (Chang et al. 2019, Table 2 rows) with one interface.

Each is an object with `fill(clips, mask) -> restored`: clips [B, T] and mask [B, T] (True =
missing, one contiguous gap per clip) in, restored clips [B, T] out. `zone` is how many samples
on each side of the gap a method may change (0: the known samples come back bit-exact, the
paper's "we paste the unmasked segments from input to the output"; None: the whole clip);
`context` is how many samples per side it reads (None: the whole clip). Methods never read
the masked samples, except the oracle GriffinLimGT (`oracle = True`).
"""

import numpy as np

from audio_context_encoder.dsp import lpc
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import phase_options
from audio_context_encoder.dsp import spectrogram


def check(clips, mask):
  """(clips float64 [B, T], mask bool [B, T]) or a one-line ValueError."""
  x = np.atleast_2d(np.asarray(clips, np.float64))
  m = np.atleast_2d(np.asarray(mask, bool))
  if m.shape != x.shape:
    raise ValueError(f'mask shape {m.shape} differs from the clips {x.shape}')
  return x, m


class MaskedInput:
  """Table 2 "Masked Input": the gap stays zero."""

  name, zone, context, oracle = 'masked', 0, 0, False

  def fill(self, clips, mask):
    x, m = check(clips, mask)
    return np.where(m, 0.0, x)


class GriffinLimGT:
  """Table 2 "Griffin-Lim GT": the ground truth's STFT magnitude through Griffin-Lim, no mask.

  An oracle: it reads the gap, and changes the whole clip (the paper's row shows what the
  STFT + Griffin-Lim round trip alone costs). Method STFT (Hann 512, hop 128).
  """

  name, zone, context, oracle = 'griffinlim_gt', None, None, True

  def __init__(self, iterations: int = 100, stft=config.METHOD_STFT):
    self.iterations, self.stft = iterations, stft

  def fill(self, clips, mask):
    x, _ = check(clips, mask)
    mag = np.abs(spectrogram.stft(x, self.stft.n_fft, self.stft.hop))
    return spectrogram.griffin_lim(mag, self.stft.n_fft, self.stft.hop, x.shape[1], self.iterations)


class ContextPhaseGT:
  """Not in the paper: the ground truth's STFT magnitude in the gap, the phase by masked PGHI +
  FGLA from the context (phase_options 'pghi+fgla'), the known samples pasted back.

  An oracle beside "Griffin-Lim GT": with the same true magnitudes it shows what the phase
  option alone is worth to the waveform metrics (ML1 compares samples, so a phase that does
  not continue the context's costs more than silence does).
  """

  name, zone, context, oracle = 'context_phase_gt', 0, None, True

  def __init__(self, iterations: int = 100, stft=config.METHOD_STFT):
    self.iterations, self.stft = iterations, stft

  def fill(self, clips, mask):
    x, m = check(clips, mask)
    mag = np.abs(spectrogram.stft(x, self.stft.n_fft, self.stft.hop))
    out = np.empty_like(x)
    for i in range(len(x)):
      s, e = config.gap_bounds(m[i])
      out[i] = phase_options.to_waveform(np.where(m[i], 0.0, x[i]), mag[i], s, e, 'pghi+fgla',
                                         self.stft, self.iterations)
    return out


def interpolate_frames(magnitude, frame_mask) -> np.ndarray:
  """magnitude [B, frames, bins] with each clip's masked frames (frame_mask [B, frames], one gap
  per clip) filled per bin by linear interpolation between the nearest known frame on each side
  (the one known side where the gap reaches a clip's end): models.FrameInterpolation in numpy."""
  out = np.array(magnitude, np.float64)
  frames = out.shape[1]
  for i in range(len(out)):
    gap = np.flatnonzero(np.asarray(frame_mask[i]) > 0.5)
    if not len(gap):
      continue
    before, after = gap[0] - 1, gap[-1] + 1
    lo = out[i, before] if before >= 0 else out[i, min(after, frames - 1)]
    hi = out[i, after] if after < frames else lo
    w = ((np.arange(gap[0], gap[-1] + 1) - before) / (after - before))[:, None]
    out[i, gap[0]:gap[-1] + 1] = (1 - w) * lo + w * hi
  return out


class SpectrogramInterpolation:
  """Not in the paper: the gap's STFT magnitudes interpolated across it from the known frames on
  each side (interpolate_frames; the method STFT, as the spectrogram network's), the phase by
  masked PGHI + FGLA from the context. The baseline-start spectrogram network's starting point:
  that network, untrained, returns exactly this (tests/test_longgap_baseline_start.py)."""

  name, zone, context, oracle = 'spec_interp', 0, None, False

  def __init__(self, iterations: int = 100, stft=config.METHOD_STFT):
    self.iterations, self.stft = iterations, stft

  def fill(self, clips, mask):
    from audio_context_encoder.dsp import tf_stft  # the frames the gap touches, as the network's
    x, m = check(clips, mask)
    zeroed = np.where(m, 0.0, x)
    mag = np.abs(spectrogram.stft(zeroed, self.stft.n_fft, self.stft.hop))
    mag = interpolate_frames(mag, np.asarray(tf_stft.frame_mask(m, self.stft.n_fft, self.stft.hop)))
    out = np.empty_like(x)
    for i in range(len(x)):
      s, e = config.gap_bounds(m[i])
      out[i] = phase_options.to_waveform(zeroed[i], mag[i], s, e, 'pghi+fgla', self.stft,
                                         self.iterations)
    return out


class LongLPC:
  """LPC for long gaps: Burg on each context (the last `max_context` samples before the gap,
  the first after it), order min(order, context // 2), forward and time-reversed backward
  extrapolation cross-faded with the squared cosine (lpc.py, the first paper's §3.5).

  A side shorter than min_context samples is not used (the other side alone fills the gap);
  both short: zeros. Failed fits use lpc.py's hold-the-edge fallback (counted in `fallbacks`).
  """

  name, zone, oracle = 'lpc', 0, False

  def __init__(self, order: int = 1000, max_context: int = 16384, min_context: int = 64):
    self.order, self.context, self.min_context = order, max_context, min_context
    self.fallbacks = 0

  def _one_side(self, ctx, length):
    order = min(self.order, len(ctx) // 2)
    pred, fb = lpc.predict(ctx[None], order, length, backend='numpy', workers=1)
    self.fallbacks += int(fb.sum())
    return pred[0]

  def fill(self, clips, mask):
    x, m = check(clips, mask)
    out = np.where(m, 0.0, x)
    for i in range(len(x)):
      s, e = config.gap_bounds(m[i])
      before = x[i, max(0, s - self.context):s]
      after = x[i, e:e + self.context]
      g = e - s
      w = lpc.mix_window(g)
      fwd = self._one_side(before, g) if len(before) >= self.min_context else None
      bwd = self._one_side(after[::-1], g)[::-1] if len(after) >= self.min_context else None
      if fwd is not None and bwd is not None:
        out[i, s:e] = w * fwd + w[::-1] * bwd
      elif fwd is not None or bwd is not None:
        out[i, s:e] = fwd if fwd is not None else bwd
    return out


class SimilarityGraph:
  """A simplified similarity-graph inpainting (Perraudin et al. 2018).

  Kept: the gap is filled with another part of the same clip chosen by spectro-temporal
  similarity of its surroundings, joined with cross-fades. Simplified: no graph and no
  multi-step path -- one shift D for the whole gap, chosen to minimise the distance between the
  log-magnitude frames just before and just after the gap and those around the candidate
  (`ctx_frames` per side), then refined to the sample within one hop by the waveform
  correlation of the 2 * fade samples on each side of the gap; no 3-second constraint. A clip with no candidate region (too short)
  keeps the zero gap and is counted in `failures` (the paper's Sim. Graph "fails to find a
  solution for most cases in SC09"). The fades reach `fade` samples into the context (zone).
  """

  name, oracle, context = 'simgraph', False, None

  def __init__(self, ctx_frames: int = 8, fade: int = 256, stft=config.METHOD_STFT):
    self.ctx, self.fade, self.stft = ctx_frames, fade, stft
    self.zone = fade
    self.failures = 0

  def shift(self, x, s, e):
    """The best shift D in samples (multiple of the hop) or None."""
    n, hop, f = len(x), self.stft.hop, self.fade
    feats = np.log1p(np.abs(spectrogram.stft(x, self.stft.n_fft, hop)) * 100)
    half = self.stft.n_fft // 2
    # centred frame k covers [k hop - half, k hop + half): frames touching the gap are unknown
    fs = (s - half) // hop + 1
    fe = -(-(e + half) // hop)
    if fs - self.ctx < 0 or fe + self.ctx > len(feats):
      return None
    before, after = feats[fs - self.ctx:fs], feats[fe:fe + self.ctx]
    best, best_d = np.inf, None
    for d in range(-fs + self.ctx, len(feats) - fe - self.ctx + 1):
      lo, hi = s + d * hop - f, e + d * hop + f  # the copied samples, fades included
      c_lo, c_hi = (fs + d - self.ctx) * hop - half, (fe + d + self.ctx) * hop + half
      if d == 0 or lo < 0 or hi > n:
        continue
      if not (min(hi, c_hi) <= s - f or max(lo, c_lo) >= e + f):  # overlaps the gap
        continue
      dist = (np.mean((feats[fs + d - self.ctx:fs + d] - before) ** 2)
              + np.mean((feats[fe + d:fe + d + self.ctx] - after) ** 2))
      if dist < best:
        best, best_d = dist, d * hop
    return None if best_d is None else self._refine(x, s, e, best_d)

  def _refine(self, x, s, e, d):
    """The shift within d +- hop whose copy best correlates with the known edges of the gap."""
    f, n = self.fade, len(x)
    edges = np.concatenate([x[s - 2 * f:s], x[e:e + 2 * f]]) if s >= 2 * f and e + 2 * f <= n else None
    if edges is None:
      return d
    best, best_d = -np.inf, d
    for c in range(d - self.stft.hop, d + self.stft.hop + 1):
      lo, hi = s - 2 * f + c, e + 2 * f + c
      if lo < 0 or hi > n or not (hi <= s or lo >= e):
        continue
      cand = np.concatenate([x[lo:lo + 2 * f], x[hi - 2 * f:hi]])
      score = edges @ cand / (np.linalg.norm(cand) * np.linalg.norm(edges) + 1e-12)
      if score > best:
        best, best_d = score, c
    return best_d

  def fill(self, clips, mask):
    x, m = check(clips, mask)
    out = np.where(m, 0.0, x)
    f = self.fade
    for i in range(len(x)):
      s, e = config.gap_bounds(m[i])
      if s < f or e + f > x.shape[1]:
        self.failures += 1
        continue
      d = self.shift(out[i], s, e)
      if d is None:
        self.failures += 1
        continue
      seg = out[i, s - f + d:e + f + d].copy()
      ramp = np.sin(np.linspace(0, np.pi / 2, f)) ** 2  # equal-power-ish cross-fade in
      region = out[i, s - f:e + f].copy()
      region[:f] = (1 - ramp) * region[:f] + ramp * seg[:f]
      region[f:-f] = seg[f:-f]
      region[-f:] = ramp[::-1] * seg[-f:] + (1 - ramp[::-1]) * region[-f:]
      out[i, s - f:e + f] = region
    return out
