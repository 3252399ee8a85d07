"""The ways to fill a gap of a 16 kHz signal: LPC extrapolation, interpolation, the network.

A filler is called as filler(x16, first, end) and returns the samples for
[first - zone, end + zone); `zone` is its transition on each side (see inpaint.py).
"""

import os

import numpy as np

from audio_context_encoder import config
from audio_context_encoder.audio_file import UserError
from audio_context_encoder.inpaint import network_window

# Networks trained here and committed with their provenance (models/*.json; README "Shipped
# networks"); `inpaint --method network` without --model uses the music one.
MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'models')
SHIPPED_MODELS = {kind: os.path.join(MODELS_DIR, f'small-{kind}.keras')
                  for kind in ('music', 'instruments')}


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


class MagnitudeFiller:
  """Gap magnitudes from `predict` + PGHI/FGLA phase (§2.4), in a 320 ms window.

  Shorter gaps are extended to the 64 ms layout (paper §4.2); the window is centred on
  the gap when the signal allows (inpaint.network_window).
  """

  def __init__(self, predict, sig, phase_method: str = 'pghi+fgla'):
    self.predict = predict  # segments [B, L] -> magnitudes [B, gap_frames, bins]
    self.sig = sig
    self.zone = sig.pad
    self.context = sig.Lc
    self.max_ms = 1000 * sig.Lg / sig.sample_rate
    self.phase_method = phase_method

  def __call__(self, x16, first, end):
    from audio_context_encoder import phase
    sig = self.sig
    start = network_window(first, end, len(x16), sig)
    window = x16[start:start + sig.L].astype(np.float32)[None]
    restored = phase.reconstruct_from_magnitudes(window, self.predict(window), sig,
                                                 method=self.phase_method)
    restored = np.asarray(restored[0], dtype=np.float64)
    lo, hi = first - self.zone - start, end + self.zone - start
    return restored[lo:hi]


class InterpolationFiller(MagnitudeFiller):
  """Border-frame magnitude interpolation (features.interpolated_gap_magnitude), no training."""

  def __init__(self, phase_method: str = 'pghi+fgla'):
    from audio_context_encoder import evaluation
    sig = config.signal_config(64)
    super().__init__(evaluation.interpolation_predictor(sig), sig, phase_method)


class NetworkFiller(MagnitudeFiller):
  """Paper §2: the context encoder's magnitudes (default: the shipped music network)."""

  def __init__(self, model_path: str = None, phase_method: str = 'pghi+fgla'):
    model_path = model_path or SHIPPED_MODELS['music']
    if not os.path.isfile(model_path):
      raise UserError(f'{model_path}: no such model file')
    from audio_context_encoder import inference
    from audio_context_encoder import model as model_lib
    try:
      self.model, self.cfg = model_lib.load_model(model_path)
    except Exception as e:
      raise UserError(f'{model_path}: cannot be loaded as a model ({e})') from None
    if self.cfg.network.output != 'magnitude':
      raise UserError(f'{model_path}: inpainting needs a magnitude network, this one is '
                      f'{self.cfg.network.output!r}')
    self.model_path = model_path
    predict = lambda window: inference.predict_gap(self.model, self.cfg, window)
    super().__init__(predict, self.cfg.signal, phase_method)
