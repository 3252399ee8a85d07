"""Long gaps (up to LONG_MAX_MS; methods.long_gap_names()): the baselines of longgap/baselines.py
behind the Method interface (`LongGap`: longgap-lpc, similarity, deep-prior, masked);
longgap-interp, `interp` on a layout as long as the gap; and Chang et al.'s trained networks
longgap-spec and longgap-wave (`LongGapNetwork`: gaps up to half their training clip).
"""

import os
from typing import Callable, Tuple

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.config import SignalConfig
from audio_context_encoder.longgap import baselines
from audio_context_encoder.longgap import config as longgap_config
from audio_context_encoder.longgap import trained as longgap_trained
from audio_context_encoder.longgap.trained import longgap_model_file
from audio_context_encoder.methods.base import Method, Restored, register
from audio_context_encoder.methods.short_gap import MODELS_DIR, Interpolation, check_keras_file


# The long-gap networks (Chang et al.'s Fig. 2) trained on the SC09-like stand-in: longgap-spec
# and longgap-wave without a model use these (`make longgap-models` writes them).
LONGGAP_MODELS = {kind: os.path.join(MODELS_DIR, longgap_model_file(kind)) for kind in ('spec', 'wave')}
LONG_MAX_MS = 10000  # longest gap a long-gap method accepts (several seconds)
SEARCH = 48000  # similarity: 3 s at 16 kHz searched on each side beyond the context it needs
# inpaint's method for a gap longer than 64 ms when --method is not given, by gap length: the
# best by ViSQOL on music excerpts at each length measured (results/longgap_default.md,
# `python -m experiments.longgap.default`): longgap-interp at 100, 200, 300, 500 ms and 1 s, by
# +0.021 to +0.145 MOS over the next best (similarity), each several standard errors; LPC keeps
# the best SNR_TD. Longer gaps, not measured, take the longest measured length's method.
# (longest gap in ms, method), the first that holds the gap.
LONG_DEFAULTS = ((1000.0, 'longgap-interp'), (LONG_MAX_MS, 'longgap-interp'))


def long_gap_default(gap_ms: float) -> str:
  """The default method for a gap of `gap_ms` (longer than 64 ms): LONG_DEFAULTS."""
  return next(name for longest, name in LONG_DEFAULTS if gap_ms <= longest)


class LongGap(Method):
  """A long-gap baseline behind the Method interface, so inpaint and evaluate take it by name.

  It fills a gap of any length up to LONG_MAX_MS: `fill_gap` hands the baseline the gap with
  `needs(n)[1]` samples read on each side (fewer at the file's ends) and `restore` the
  window's gap [Lc, Lc + Lg). The zone is the baseline's (0: the gap only; similarity: its
  cross-fade). needs: n -> (context required on each side, samples read on each side).
  """

  edge_guard = 16  # 1 ms: the resampling filter's reach, as for LPC (inpaint.inpaint_samples)

  def __init__(self, name: str, baseline, needs: Callable[[int], Tuple[int, int]],
               description: str = ''):
    super().__init__(config_lib.signal_config(64))
    self.name, self.baseline, self._needs = name, baseline, needs
    self.description = description
    self.zone = baseline.zone or 0
    self.context = needs(1)[0]
    self.max_ms = LONG_MAX_MS

  def needs(self, n):
    return self._needs(n)

  @property
  def fallbacks(self) -> int:
    """Gaps the baseline could not fill as designed (LPC's hold-the-edge, no similar part)."""
    return getattr(self.baseline, 'fallbacks', 0) + getattr(self.baseline, 'failures', 0)

  def restore(self, segments, sig):
    segments = np.atleast_2d(np.asarray(segments))
    mask = np.zeros(segments.shape, bool)
    mask[:, sig.Lc:sig.Lc + sig.Lg] = True
    return Restored(self.baseline.fill(segments, mask).astype(segments.dtype))

  def fill_gap(self, x16, first, end):
    reach = self.needs(end - first)[1]
    lo, hi = max(first - reach, 0), min(end + reach, len(x16))
    mask = np.zeros(hi - lo, bool)
    mask[first - lo:end - lo] = True
    restored = self.baseline.fill(np.asarray(x16[lo:hi])[None], mask[None])[0]
    return restored[first - self.zone - lo:end + self.zone - lo]


@register('longgap-lpc', long_gap=True)
def long_lpc(order: int = 1000) -> LongGap:
  """LPC for long gaps: Burg on up to 1 s of each context, order capped by the context
  (baselines.LongLPC); it needs `order` samples per side for the full order."""
  context = 16384
  return LongGap('longgap-lpc', baselines.LongLPC(order=order, max_context=context),
                 lambda n: (order, context),
                 'Burg linear prediction from up to 1 s on each side, forward and backward, '
                 'cross-faded')


@register('similarity', long_gap=True)
def similarity() -> LongGap:
  """Copy the best-matching part of the surroundings with cross-fades (baselines.SimilarityGraph).
  It needs a copy of the gap, its fades and context frames on each side, and searches SEARCH
  samples beyond that."""
  base = baselines.SimilarityGraph()
  edge = base.fade + base.ctx * base.stft.hop + base.stft.n_fft
  return LongGap('similarity', base, lambda n: (n + 2 * edge, n + 2 * edge + SEARCH),
                 'the part of the surroundings whose spectrogram best matches the gap\'s edges, '
                 'copied in with cross-fades')


@register('deep-prior', long_gap=True)
def deep_prior(iterations: int = longgap_config.DEEP_PRIOR_ITERATIONS, seed: int = 0) -> LongGap:
  """Deep Prior (a net fitted per gap to the known spectrogram, Griffin-Lim phase): tens of
  minutes per gap and channel on a CPU. It needs four STFT windows of known frames on each side
  and reads 0.5 s more than the gap there (what it fits, beside the gap's own length).
  """
  from audio_context_encoder.longgap import deep_prior as dp  # TensorFlow in its fit: only for it
  base = dp.DeepPrior(iterations=iterations, seed=seed)
  return LongGap('deep-prior', base, lambda n: (4 * base.stft.n_fft, n + 8000),
                 'a convolutional net fitted to the known spectrogram of this one gap; '
                 'Griffin-Lim phase')


@register('longgap-interp', long_gap=True)
class LongInterpolation(Interpolation):
  """`interp` on a gap of any length: the 64 ms layout's context (Lc = 2048) around the gap
  widened to the hop grid; magnitudes interpolated across it, then phase retrieval. It changes
  the widened gap plus M - a samples, cross-faded (zone: M samples, the widening included)."""

  name = 'longgap-interp'
  description = ('interp over the whole gap: border magnitudes interpolated across it; phase by '
                 'PGHI + fast Griffin-Lim')

  def __init__(self, config: config_lib.Config = None, phase_method: str = None, seed: int = 0):
    super().__init__(config, phase_method, seed)
    self.zone = self.sig.pad + self.sig.a
    self.max_ms = LONG_MAX_MS

  def needs(self, n):
    return self.sig.Lc + (-n) % self.sig.a, self.sig.Lc + self.sig.a

  def fill_gap(self, x16, first, end):
    base = self.sig
    lg = -(-(end - first) // base.a) * base.a
    sig = SignalConfig(L=2 * base.Lc + lg, Lg=lg, Lc=base.Lc, M=base.M, a=base.a,
                       sample_rate=base.sample_rate)
    w0 = first - sig.Lc
    window = np.asarray(x16[w0:w0 + sig.L], np.float32)[None]
    restored = np.asarray(self.restore(window, sig).restored[0], np.float64)
    return restored[first - self.zone - w0:end + self.zone - w0]


@register('masked', long_gap=True)
def masked() -> LongGap:
  """The gap set to zero (Chang et al.'s "Masked Input" row): a floor for evaluate."""
  return LongGap('masked', baselines.MaskedInput(), lambda n: (0, 0), 'the gap left silent')


class LongGapNetwork(Method):
  """Chang et al.'s spectrogram or waveform network (longgap/trained.py) on gaps of a file.

  It fills a window of one training clip (SC09: 1 s at 16 kHz) around each gap
  (TrainedNetwork.fill_gap), so it takes gaps up to half that clip, with a quarter of it
  (250 ms) of audio on both sides: the test protocol's 0.2 s gap has 0.4 s. The known
  samples come back bit-exact (zone 0, the paper's paste-back). The .keras file is loaded at
  the first gap, so refusals need no TensorFlow. It restores no 320 ms segment: evaluate's
  windows have 128 ms of context, and evaluate refuses the method (needs).
  """

  edge_guard = 16  # 1 ms: the resampling filter's reach, as for LPC (inpaint.inpaint_samples)
  trained = True

  def __init__(self, kind: str, model: str = None, phase: str = 'pghi+fgla', iterations: int = 100):
    super().__init__(config_lib.signal_config(64))
    self.name, self.model_path = f'longgap-{kind}', model or LONGGAP_MODELS[kind]
    self.description = {'spec': "Chang et al.'s spectrogram network (gated convolutions); phase "
                                'by PGHI + fast Griffin-Lim',
                        'wave': "Chang et al.'s waveform network (stacked dilated gated "
                                'convolutions)'}[kind]
    self.phase, self.iterations, self._network = phase, iterations, None
    if not os.path.isfile(self.model_path):
      raise UserError(f'{self.model_path}: no such model file (`make longgap-models` trains the '
                      f'long-gap networks and writes models/{longgap_model_file(kind)})')
    check_keras_file(self.model_path, 'a long-gap network')
    try:
      record = longgap_trained.read_provenance(self.model_path)
      protocol = longgap_config.get(record['protocol'])
    except ValueError as e:
      raise UserError(str(e)) from None
    if record['model'] != kind:
      raise UserError(f"{self.model_path}: a {record['model']} network; use --method "
                      f"longgap-{record['model']}")
    rate = self.sig.sample_rate
    self.clip = int(round(protocol.clip_samples * rate / protocol.sample_rate))
    self.context = self.clip // 4
    self.max_ms = 1000 * (self.clip // 2) / rate
    self.hint = (f'; {self.name} fills gaps up to {self.max_ms:g} ms (half its '
                 f'{1000 * self.clip / rate:g} ms window) with {1000 * self.context / rate:g} ms '
                 'of audio on both sides: use --method longgap-lpc or similarity')

  def needs(self, n):
    """It reads up to the rest of its window on one side (a gap near a file's end)."""
    return self.context, self.clip - self.context

  @property
  def network(self) -> 'longgap_trained.TrainedNetwork':
    if self._network is None:
      try:
        self._network = longgap_trained.TrainedNetwork(self.model_path, self.phase, self.iterations)
      except Exception as e:
        raise UserError(f'{self.model_path}: cannot be loaded as a long-gap network ({e})') from None
    return self._network

  def restore(self, segments, sig):
    raise UserError(f'{self.name} fills gaps of files (inpaint), with a quarter of its '
                    f'{1000 * self.clip / self.sig.sample_rate:g} ms window on each side; the '
                    f'{1000 * sig.Lc / sig.sample_rate:g} ms context of a segment is too short')

  def fill_gap(self, x16, first, end):
    return self.network.fill_gap(np.asarray(x16, np.float64), first, end, self.sig.sample_rate)


@register('longgap-spec', long_gap=True)
class LongGapSpec(LongGapNetwork):
  """The spectrogram network: gap magnitudes, then phase retrieval (phase_options.PHASES;
  the paper's Griffin-Lim is 'gl')."""

  def __init__(self, model: str = None, phase: str = 'pghi+fgla', iterations: int = 100):
    super().__init__('spec', model, phase, iterations)


@register('longgap-wave', long_gap=True)
class LongGapWave(LongGapNetwork):
  """The waveform network: the gap's samples directly."""

  def __init__(self, model: str = None):
    super().__init__('wave', model)
