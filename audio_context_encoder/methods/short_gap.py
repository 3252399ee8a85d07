"""The paper's methods and Janssen's, for gaps up to 64 ms (docs/reference.md, "Methods").

  lpc      paper §3.5: Burg order-1000 extrapolation from both contexts, cross-faded
  janssen  Janssen's AR inpainting, classic (window-wise) and gap-wise (janssen-gapwise)
  interp   border-frame magnitude interpolation + the network's phase retrieval (no training)
  network  paper §2: the context encoder's gap magnitudes + phase retrieval (§2.4)
  Extended Table 3: any method that fills a longer gap, on the shorter gap extended (§4.2)
"""

import dataclasses
import os
import zipfile
from typing import Callable, Tuple

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.config import SignalConfig
from audio_context_encoder.dsp import dgt as dgt_lib
from audio_context_encoder.dsp import janssen as janssen_lib
from audio_context_encoder.dsp import lpc
from audio_context_encoder.dsp import phase
from audio_context_encoder.methods.base import Method, Restored, register, segments_of

# Networks trained here and committed with their provenance (models/*.json; README "Shipped
# networks"); the network method without a model uses the music one.
MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          'models')  # the repository's models/, beside audio_context_encoder/
SHIPPED_MODELS = {kind: os.path.join(MODELS_DIR, f'small-{kind}.keras')
                  for kind in ('music', 'instruments')}

# Table 3's names of the (before, after) extensions of config.ReconstructionConfig.gap_extensions.
EXTENSION_NAMES = {(0, 256): 'forward', (256, 0): 'backward', (128, 128): 'centred'}


class Magnitudes(Method):
  """Gap magnitudes from `predict` + phase retrieval (§2.4), or complex gap coefficients
  synthesised directly (the complex network, §2.3)."""

  def __init__(self, predict: Callable, sig: SignalConfig, config: config_lib.Config = None,
               phase_method: str = None, seed: int = 0):
    super().__init__(sig)
    self.predict = predict  # segments [B, L] -> [B, gap_frames, bins], magnitudes or complex
    self.cfg = config or config_lib.paper()
    self.phase_method = phase_method or self.cfg.reconstruction.phase_method
    self.seed = seed
    self.zone = sig.pad

  def restore(self, segments, sig):
    return self.restore_with(self.predict, segments, sig)

  def restore_with(self, predict: Callable, segments, sig):
    pred = np.asarray(predict(segments))
    if np.iscomplexobj(pred):
      # Complex network: tf.signal.stft frames -> 'timeinv' DGT columns, no phase retrieval.
      restored = phase.synthesize_gap(segments, dgt_lib.from_stft_frames(pred, sig), sig)
    else:
      restored = phase.reconstruct_from_magnitudes(segments, pred, sig, self.phase_method,
                                                   self.cfg.reconstruction, seed=self.seed)
    return Restored(restored, magnitudes=np.abs(pred))


def interpolation_predictor(sig: SignalConfig) -> Callable:
  """segments [B, L] -> interpolated gap magnitudes [B, gap_frames, bins] (no training)."""
  from audio_context_encoder.context_encoder import features  # TensorFlow: loaded only by the methods that use it

  def predict(segments):
    context = features.context_features(np.asarray(segments, np.float32), sig)
    return features.interpolated_gap_magnitude(context, sig).numpy()

  return predict


def network_predictor(model, cfg: config_lib.Config, batch_size: int = 64) -> Callable:
  """segments [B, L] -> gap coefficients [B, gap_frames, bins] with a trained model."""
  from audio_context_encoder.context_encoder import inference  # TensorFlow: loaded only for a network

  def predict(segments):
    return inference.predict_gap(model, cfg, np.asarray(segments, np.float32), batch_size)

  return predict


def check_keras_file(path: str, kind: str = 'a model') -> None:
  """A .keras file is a zip archive: a truncated or damaged one is named as such (Keras would
  say 'File not found' of a file that exists)."""
  if not os.path.isfile(path):
    raise UserError(f'{path}: no such model file')
  if not zipfile.is_zipfile(path):
    raise UserError(f'{path}: cannot be loaded as {kind} (a .keras file is a zip archive; this '
                    'one is truncated, damaged or of another kind)')


def load_network(path: str, magnitude_only: bool = True):
  """(model, its config) of a .keras file written by training; UserError when it is not one."""
  check_keras_file(path)
  from audio_context_encoder.context_encoder import model as model_lib  # TensorFlow: loaded only for a network
  try:
    model, cfg = model_lib.load_model(path)
  except Exception as e:
    raise UserError(f'{path}: cannot be loaded as a model ({e})') from None
  if magnitude_only and cfg.network.output != 'magnitude':
    raise UserError(f'{path}: inpainting needs a magnitude network, this one is '
                    f'{cfg.network.output!r}')
  return model, cfg


@register('network')
class Network(Magnitudes):
  """Paper §2: the context encoder's gap coefficients; it fills only the layout it was trained
  for (64 ms), shorter gaps through `Extended`. Evaluation uses the model's own config.

  model: a .keras path (default: the shipped music network) or predict, a function of
  segments (tests and stubs; then config gives the layout).
  """

  name = 'network'

  @property
  def description(self) -> str:
    start = {'lpc': ", starting at LPC's gap magnitudes (a documented deviation)",
             'interp': ', starting at the interpolation (a documented deviation)',
             'blend': ', starting at a blend of the context frames (a documented deviation)'}
    return ('the context encoder (§2): a CNN predicts the gap\'s magnitudes from 128 ms of STFT '
            'context on each side' + start.get(self.cfg.network.residual, '')
            + '; phase by PGHI + fast Griffin-Lim')
  trained = True

  def __init__(self, model: str = None, predict: Callable = None, config: config_lib.Config = None,
               phase_method: str = None, seed: int = 0, batch_size: int = 64,
               magnitude_only: bool = True):
    self.model_path = None
    if predict is None:
      self.model_path = model or SHIPPED_MODELS['music']
      self.model, config = load_network(self.model_path, magnitude_only)
      predict = network_predictor(self.model, config, batch_size)
    config = config or config_lib.paper()
    super().__init__(predict, config.signal, config, phase_method, seed)

  def fills(self, sig):
    return sig == self.sig  # the layout it was trained for


@register('interp')
class Interpolation(Magnitudes):
  """Border-frame magnitude interpolation (features.interpolated_gap_magnitude), no training;
  it fills the gap of any layout directly, as LPC does."""

  name = 'interp'
  description = ('no training: each frequency\'s magnitude interpolated linearly across the gap '
                 'from the frames just outside it; phase by PGHI + fast Griffin-Lim')

  def __init__(self, config: config_lib.Config = None, phase_method: str = None, seed: int = 0):
    # Its predictor depends on the layout of each call (restore), so none is bound here.
    super().__init__(None, config_lib.signal_config(64), config, phase_method, seed)

  def restore(self, segments, sig):
    return self.restore_with(interpolation_predictor(sig), segments, sig)


@register('lpc')
class LPC(Method):
  """Paper §3.5: Burg order-1000 extrapolation from the Lc samples on each side, cross-faded."""

  name = 'lpc'
  description = ("the paper's baseline (§3.5): Burg linear prediction of order 1000 from 128 ms "
                 'on each side, extrapolated forward and backward, cross-faded')
  edge_guard = 16  # 1 ms: the resampling filter's reach (inpaint.inpaint_samples)

  def __init__(self, config: config_lib.Config = None):
    self.cfg = config or config_lib.paper()
    super().__init__(self.cfg.signal)
    self.fallbacks = 0  # gaps of fill_gap whose context was silent or constant

  def restore(self, segments, sig):
    restored, n_fallback = lpc.lpc_inpaint(segments, sig, self.cfg.reconstruction.lpc_order)
    return Restored(restored, n_fallback=n_fallback)

  def fill_gap(self, x16, first, end):
    """Exactly the gap, whatever its length: LPC needs no window layout."""
    before = x16[first - self.context:first][None]
    after = x16[end:end + self.context][None]
    gap, fallback = lpc.extrapolate_gap(before, after, end - first,
                                        order=self.cfg.reconstruction.lpc_order)
    self.fallbacks += int(np.sum(fallback))
    return gap[0]

  def fallback_note(self) -> str:
    return (f'{self.fallbacks} gap(s) had a silent or constant context; LPC fell back to a '
            'cross-fade of the context edges')


@register('janssen')
class Janssen(Method):
  """Janssen's AR inpainting (janssen.py; not in the paper): the classic, window-wise method
  ('janssen'), or Mokrý & Rajmic's gap-wise one (JanssenGapwise). It fills the gap of any layout
  up to 64 ms (longer gaps go to the long-gap methods) and changes nothing else."""

  name = 'janssen'
  variant = 'classic'
  edge_guard = 16  # 1 ms: the resampling filter's reach, as for LPC (inpaint.inpaint_samples)

  def __init__(self, janssen_config: config_lib.JanssenConfig = None):
    super().__init__(config_lib.signal_config(64))
    self.jcfg = janssen_config or config_lib.JANSSEN
    reads = self.jcfg.window_ms if self.variant == 'classic' else self.jcfg.context_ms
    self.context = int(round(reads * self.sig.sample_rate / 1000))

  @property
  def description(self) -> str:
    c = self.jcfg
    model = f'(AR order {c.p}, {c.estimator} estimate, {c.iterations} iterations)'
    if self.variant == 'gapwise':
      return (f'gap-wise Janssen (Mokrý & Rajmic 2024): one AR model of the gap and {c.context_ms:g} '
              f'ms on each side, fitted and used for a least-squares fill in turn {model}')
    return (f'Janssen et al. 1986, as the Audio Inpainting Toolbox runs it: every Hann-windowed '
            f'{c.window_ms:.0f} ms block around the gap gets an AR model and a least-squares fill '
            f'in turn {model}, overlap-added')

  def settings(self) -> dict:
    return {'janssen': dataclasses.asdict(self.jcfg), 'variant': self.variant}

  def restore(self, segments, sig):
    first, end = sig.Lc, sig.Lc + sig.Lg
    return Restored(janssen_lib.inpaint(segments, first, end, self.variant, self.jcfg))

  def fill_gap(self, x16, first, end):
    """Exactly the gap, from the audio around it (janssen.VARIANTS)."""
    return janssen_lib.VARIANTS[self.variant](np.asarray(x16, np.float64), first, end, self.jcfg)


@register('janssen-gapwise')
class JanssenGapwise(Janssen):
  """Mokrý & Rajmic's gap-wise Janssen: one AR window, the gap and 128 ms on each side."""

  name = 'janssen-gapwise'
  variant = 'gapwise'


def _ms(sig: SignalConfig) -> int:
  return sig.Lg * 1000 // sig.sample_rate


class Extended(Method):
  """Table 3 (§4.2): `inner` fills a longer gap than the windows' one, extended by `before`
  and `after` samples; the context it reads reaches into the windows' margins."""

  def __init__(self, inner: Method, before: int, after: int):
    super().__init__(inner.sig)
    self.inner, self.before, self.after = inner, before, after
    self.extension = EXTENSION_NAMES.get((before, after), f'{before}_{after}')
    self.name = f'{inner.name} {self.extension}'
    self.zone = inner.zone + max(before, after)

  def margin(self) -> int:
    """Samples it needs beyond each side of a window's segment."""
    return max(self.before, self.after)

  def fill(self, windows, sig):
    return self.fill_scored(windows, sig)[0]

  def restore(self, segments, sig):
    """Windows with the margins of `margin()` only (a bare segment is refused: fill_scored)."""
    return Restored(self.fill(segments, sig))

  def fill_scored(self, windows, sig) -> Tuple[np.ndarray, np.ndarray, Restored]:
    """(restored segments [B, L], the inner method's windows [B, inner L] as given, its
    restore result: its magnitudes before phase retrieval, for the tables)."""
    inner = self.inner.sig
    _, margin = segments_of(windows, sig)
    if margin < self.margin():
      raise ValueError(f'{_ms(sig)} ms with the {_ms(inner)} ms {self.inner.name} needs '
                       f'margins of {self.margin()} samples, got {margin}')
    if self.before + self.after != inner.Lg - sig.Lg:
      raise ValueError(f'extension {(self.before, self.after)} does not make a {inner.Lg}-sample gap')
    windows = np.atleast_2d(np.asarray(windows))
    w0 = margin + sig.Lc - self.before - inner.Lc  # the inner window, in window coordinates
    inner_windows = windows[:, w0:w0 + inner.L]
    result = self.inner.restore(inner_windows, inner)
    full = windows.copy()
    full[:, w0:w0 + inner.L] = result.restored
    return full[:, margin:margin + sig.L], inner_windows, result


def extensions(method: Method, config: config_lib.Config = None):
  """Table 3's wrappers of `method`, one per config.reconstruction.gap_extensions."""
  cfg = config or config_lib.paper()
  return [Extended(method, before, after) for before, after in cfg.reconstruction.gap_extensions]
