"""From an inpainted magnitude spectrogram back to a waveform: the two phase options.

  'gl'         Griffin-Lim on the whole clip from zero phase, as the paper ("Spectrogram
               Inpainting Model": the recovered spectrogram "transformed back to waveform ...
               by Griffin-Lim"); fast Griffin-Lim with alpha (spectrogram.griffin_lim).
  'pghi+fgla'  the package's masked PGHI + FGLA (phase.py), which keeps the phase of the known
               context and retrieves only the gap's (the paper's own suggestion under
               "Spectrograms to waveforms"). It runs on a window centred on the gap whose
               lengths are multiples of the hop (SignalConfig's layout); the gap is widened to
               the hop grid, the widening is pasted back afterwards.
Magnitudes are in the centred layout of spectrogram.stft(clip, METHOD_STFT) [frames, bins].
"""

import numpy as np

from audio_context_encoder import config as ace_config
from audio_context_encoder.dsp import phase as ace_phase
from audio_context_encoder.longgap import config
from audio_context_encoder.dsp import spectrogram

PHASES = ('gl', 'pghi+fgla')


def pghi_window(length: int, start: int, end: int, n_fft: int, hop: int):
  """(w0, SignalConfig) of the widest window [w0, w0 + L) centred on the gap [start, end),
  on the hop grid, or (None, None) when a context side is shorter than the window n_fft."""
  s, e = (start // hop) * hop, -(-end // hop) * hop
  lc = (min(s, length - e) // hop) * hop
  if lc < n_fft or e > length:
    return None, None
  sig = ace_config.SignalConfig(L=2 * lc + (e - s), Lg=e - s, Lc=lc, M=n_fft, a=hop)
  return s - lc, sig


def to_waveform(masked_clip, magnitude, start: int, end: int, method: str = 'gl',
                stft=config.METHOD_STFT, iterations: int = 100, seed: int = 0) -> np.ndarray:
  """One clip [T] whose gap [start, end) comes from `magnitude` [frames, bins]; the known
  samples are pasted back (Chang et al., "Benchmark Procedure")."""
  if method not in PHASES:
    raise ValueError(f'unknown phase method {method!r}; choose one of {PHASES}')
  x = np.asarray(masked_clip, np.float64).copy()
  n = len(x)
  x[start:end] = 0.0
  w0, sig = (None, None)
  if method == 'pghi+fgla':
    w0, sig = pghi_window(n, start, end, stft.n_fft, stft.hop)
  if sig is None:  # Griffin-Lim, also the fallback when the context is too short for PGHI
    y = spectrogram.griffin_lim(magnitude[None], stft.n_fft, stft.hop, n, iterations)[0]
  else:
    first = (w0 + sig.Lc - sig.pad) // stft.hop + stft.n_fft // (2 * stft.hop)  # centred index
    gap_mag = magnitude[first:first + sig.gap_frames]
    rcfg = ace_config.ReconstructionConfig(fgla_iterations=iterations)
    seg = ace_phase.reconstruct_from_magnitudes(x[w0:w0 + sig.L][None], gap_mag[None], sig,
                                                'pghi+fgla', rcfg, seed=seed, backend='numpy',
                                                workers=1)[0]
    y = x.copy()
    y[w0:w0 + sig.L] = seg
  out = x
  out[start:end] = y[start:end]
  return out
