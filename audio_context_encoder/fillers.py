"""The two ways to fill a gap of a 16 kHz signal: LPC extrapolation and the network.

A filler is called as filler(x16, first, end) and returns the samples for
[first - zone, end + zone); `zone` is its transition on each side (see inpaint.py).
"""

import os

import numpy as np

from audio_context_encoder import config
from audio_context_encoder.audio_file import UserError
from audio_context_encoder.inpaint import network_window


class LPCFiller:
  """Paper §3.5: Burg order-1000 extrapolation from 128 ms on each side, cross-faded."""

  zone = 0
  edge_guard = 16  # 1 ms: the resampling filter's reach (inpaint.inpaint_samples)

  def __init__(self, cfg: config.Config = None):
    self.cfg = cfg or config.get('paper')
    self.context = self.cfg.signal.Lc
    self.max_ms = 1000 * self.cfg.signal.Lg / self.cfg.signal.sample_rate
    self.fallbacks = 0

  def __call__(self, x16, first, end):
    from audio_context_encoder import lpc
    before = x16[first - self.context:first][None]
    after = x16[end:end + self.context][None]
    gap, fallback = lpc.extrapolate_gap(before, after, end - first,
                                        order=self.cfg.reconstruction.lpc_order)
    self.fallbacks += int(np.sum(fallback))
    return gap[0]


class NetworkFiller:
  """Paper §2: the context encoder's magnitudes + PGHI/FGLA phase, in a 320 ms window.

  Shorter gaps are extended to the network's 64 ms (paper §4.2); the window is centred on
  the gap when the signal allows (inpaint.network_window).
  """

  def __init__(self, model_path: str, phase_method: str = 'pghi+fgla'):
    if not model_path:
      raise UserError('--method network needs --model PATH (a .keras file written by training)')
    if not os.path.isfile(model_path):
      raise UserError(f'{model_path}: no such model file')
    from audio_context_encoder import model as model_lib
    try:
      self.model, self.cfg = model_lib.load_model(model_path)
    except Exception as e:
      raise UserError(f'{model_path}: cannot be loaded as a model ({e})') from None
    if self.cfg.network.output != 'magnitude':
      raise UserError(f'{model_path}: inpainting needs a magnitude network, this one is '
                      f'{self.cfg.network.output!r}')
    sig = self.cfg.signal
    self.sig = sig
    self.zone = sig.pad
    self.context = sig.Lc
    self.max_ms = 1000 * sig.Lg / sig.sample_rate
    self.phase_method = phase_method

  def __call__(self, x16, first, end):
    from audio_context_encoder import inference, phase
    sig = self.sig
    start = network_window(first, end, len(x16), sig)
    window = x16[start:start + sig.L].astype(np.float32)[None]
    magnitudes = inference.predict_gap(self.model, self.cfg, window)
    restored = phase.reconstruct_from_magnitudes(window, magnitudes, sig, method=self.phase_method)
    restored = np.asarray(restored[0], dtype=np.float64)
    lo, hi = first - self.zone - start, end + self.zone - start
    return restored[lo:hi]
