"""The ways to fill a gap, behind one interface, and the registry that names them.

A `Method` fills the gap of a batch of windows: `fill(windows, sig)` takes windows
[B, L + 2 margin] (the segment of the layout `sig`, gap [Lc, Lc + Lg), plus `margin` samples
on each side that only extended methods read) and returns the restored segments [B, L].
It declares what it may change (`zone`: samples beyond each side of the gap, the rest comes
back bit-exact) and what it needs (`context`: samples on each side of the gap).
`fill_gap(x16, first, end)` fills one gap of a long 16 kHz signal (the `inpaint` command):
the samples of [first - zone, end + zone).

  lpc      paper §3.5: Burg order-1000 extrapolation from both contexts, cross-faded
  interp   border-frame magnitude interpolation + the network's phase retrieval (no training)
  network  paper §2: the context encoder's gap magnitudes + phase retrieval (§2.4)
  Extended Table 3: any method that fills a longer gap, on the shorter gap extended (§4.2)

Long gaps (up to LONG_MAX_MS; `long_gap_names()`): the baselines of longgap/baselines.py
behind the same interface (`LongGap`): longgap-lpc, similarity, deep-prior, masked;
longgap-interp, `interp` on a layout as long as the gap; and Chang et al.'s trained networks
longgap-spec and longgap-wave (`LongGapNetwork`: gaps up to half their training clip).

Tables, `evaluate` and `inpaint` take a method by name: `get(name, **options)`; a new method
is one `register(name, factory)` call.
"""

import dataclasses
import inspect
import os
import zipfile
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from audio_context_encoder import config as config_lib
from audio_context_encoder import dgt as dgt_lib
from audio_context_encoder import janssen as janssen_lib
from audio_context_encoder import lpc, phase
from audio_context_encoder.config import SignalConfig
from audio_context_encoder.errors import UserError
from audio_context_encoder.longgap import baselines, trained as longgap_trained
from audio_context_encoder.longgap import config as longgap_config

# Networks trained here and committed with their provenance (models/*.json; README "Shipped
# networks"); the network method without a model uses the music one.
MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'models')
SHIPPED_MODELS = {kind: os.path.join(MODELS_DIR, f'small-{kind}.keras')
                  for kind in ('music', 'instruments')}


def longgap_model_file(kind: str, protocol: str = 'sc09') -> str:
  """The name of a shipped long-gap network (experiments/ship_longgap_model.py writes it)."""
  return f'longgap-{kind}-{protocol}.keras'


# The long-gap networks (Chang et al.'s Fig. 2) trained on the SC09-like stand-in: longgap-spec
# and longgap-wave without a model use these (`make longgap-models` writes them).
LONGGAP_MODELS = {kind: os.path.join(MODELS_DIR, longgap_model_file(kind)) for kind in ('spec', 'wave')}
# Table 3's names of the (before, after) extensions of config.ReconstructionConfig.gap_extensions.
EXTENSION_NAMES = {(0, 256): 'forward', (256, 0): 'backward', (128, 128): 'centred'}


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


def segments_of(windows, sig: SignalConfig) -> Tuple[np.ndarray, int]:
  """(the centred segments [B, L], margin) of windows [B, L + 2 margin]."""
  windows = np.atleast_2d(np.asarray(windows))
  margin = (windows.shape[-1] - sig.L) // 2
  if margin < 0 or windows.shape[-1] != sig.L + 2 * margin:
    raise ValueError(f'windows must be {sig.L} samples plus equal margins, got length '
                     f'{windows.shape[-1]}')
  return windows[:, margin:margin + sig.L], margin


class Method:
  """Fills gaps. Subclasses implement `restore`; the rest follows from it."""

  name = 'method'
  description = ''  # what it does, in a sentence for a listener (the listening page)
  zone = 0  # samples on each side of the gap it may change
  edge_guard = 0  # extra 16 kHz samples it wants filled around a resampled gap (inpaint)
  any_layout = True  # fills the gap of any SignalConfig layout as it is (not only self.sig)
  trained = False  # needs a trained model (tables evaluate it only where one is given)
  hint = ''  # appended to inpaint's refusal of a gap: what this method takes, what else to use

  def __init__(self, sig: SignalConfig):
    self.sig = sig  # the layout of `fill_gap` (and the only one, unless `any_layout`)
    self.context = sig.Lc  # samples of context it needs on each side of the gap
    self.max_ms = 1000 * sig.Lg / sig.sample_rate  # longest gap it fills

  def settings(self) -> dict:
    """What this method's results depend on beyond its name (evaluation.job_key): its config."""
    cfg = getattr(self, 'cfg', None)
    return {'config': cfg.to_dict() if hasattr(cfg, 'to_dict') else None}

  def needs(self, n: int) -> Tuple[int, Optional[int]]:
    """(context it needs on each side, samples it reads on each side or None: the default
    reach of inpaint) for a gap of n samples; the short-gap methods need a fixed context."""
    return self.context, None

  def fills(self, sig: SignalConfig) -> bool:
    """Whether `fill` takes windows of layout `sig` as they are (else: wrap it in Extended)."""
    return self.any_layout or sig == self.sig

  def restore(self, segments: np.ndarray, sig: SignalConfig) -> Dict[str, np.ndarray]:
    """{'restored': [B, L], optional 'magnitudes' [B, gap_frames, bins], 'n_fallback'}."""
    raise NotImplementedError

  def fill(self, windows, sig: SignalConfig) -> np.ndarray:
    """Restored segments [B, L] of windows [B, L + 2 margin]."""
    return self.restore(segments_of(windows, sig)[0], sig)['restored']

  def fill_gap(self, x16: np.ndarray, first: int, end: int) -> np.ndarray:
    """The samples of [first - zone, end + zone) of x16 with [first, end) filled: the method
    runs on the L-sample window of its layout that holds the gap, centred where it can be."""
    sig = self.sig
    start = network_window(first, end, len(x16), sig)
    window = x16[start:start + sig.L].astype(np.float32)[None]
    restored = np.asarray(self.restore(window, sig)['restored'][0], dtype=np.float64)
    return restored[first - self.zone - start:end + self.zone - start]


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
    return {'restored': restored, 'n_fallback': n_fallback}

  def fill_gap(self, x16, first, end):
    """Exactly the gap, whatever its length: LPC needs no window layout."""
    before = x16[first - self.context:first][None]
    after = x16[end:end + self.context][None]
    gap, fallback = lpc.extrapolate_gap(before, after, end - first,
                                        order=self.cfg.reconstruction.lpc_order)
    self.fallbacks += int(np.sum(fallback))
    return gap[0]


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
    return {'restored': janssen_lib.inpaint(segments, first, end, self.variant, self.jcfg)}

  def fill_gap(self, x16, first, end):
    """Exactly the gap, from the audio around it (janssen.VARIANTS)."""
    return janssen_lib.VARIANTS[self.variant](np.asarray(x16, np.float64), first, end, self.jcfg)


class JanssenGapwise(Janssen):
  """Mokrý & Rajmic's gap-wise Janssen: one AR window, the gap and 128 ms on each side."""

  name = 'janssen-gapwise'
  variant = 'gapwise'


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
    return {'restored': restored, 'magnitudes': np.abs(pred)}


def interpolation_predictor(sig: SignalConfig) -> Callable:
  """segments [B, L] -> interpolated gap magnitudes [B, gap_frames, bins] (no training)."""
  from audio_context_encoder import features  # TensorFlow: loaded only by the methods that use it

  def predict(segments):
    context = features.context_features(np.asarray(segments, np.float32), sig)
    return features.interpolated_gap_magnitude(context, sig).numpy()

  return predict


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


def network_predictor(model, cfg: config_lib.Config, batch_size: int = 64) -> Callable:
  """segments [B, L] -> gap coefficients [B, gap_frames, bins] with a trained model."""
  from audio_context_encoder import inference  # TensorFlow: loaded only for a network

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
  from audio_context_encoder import model as model_lib  # TensorFlow: loaded only for a network
  try:
    model, cfg = model_lib.load_model(path)
  except Exception as e:
    raise UserError(f'{path}: cannot be loaded as a model ({e})') from None
  if magnitude_only and cfg.network.output != 'magnitude':
    raise UserError(f'{path}: inpainting needs a magnitude network, this one is '
                    f'{cfg.network.output!r}')
  return model, cfg


class Network(Magnitudes):
  """Paper §2: the context encoder's gap coefficients; it fills only the layout it was trained
  for (64 ms), shorter gaps through `Extended`. Evaluation uses the model's own config.

  model: a .keras path (default: the shipped music network) or predict, a function of
  segments (tests and stubs; then config gives the layout).
  """

  name = 'network'
  any_layout = False

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

  def fill_scored(self, windows, sig) -> Tuple[np.ndarray, np.ndarray, Dict[str, np.ndarray]]:
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
    full[:, w0:w0 + inner.L] = result['restored']
    return full[:, margin:margin + sig.L], inner_windows, result


def extensions(method: Method, config: config_lib.Config = None):
  """Table 3's wrappers of `method`, one per config.reconstruction.gap_extensions."""
  cfg = config or config_lib.paper()
  return [Extended(method, before, after) for before, after in cfg.reconstruction.gap_extensions]


# ---- long gaps: the long-gap baselines (fill(clips, mask)) as Methods ----
LONG_MAX_MS = 10000  # longest gap a long-gap method accepts (several seconds)
SEARCH = 48000  # similarity: 3 s at 16 kHz searched on each side beyond the context it needs


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
    return {'restored': self.baseline.fill(segments, mask).astype(segments.dtype)}

  def fill_gap(self, x16, first, end):
    reach = self.needs(end - first)[1]
    lo, hi = max(first - reach, 0), min(end + reach, len(x16))
    mask = np.zeros(hi - lo, bool)
    mask[first - lo:end - lo] = True
    restored = self.baseline.fill(np.asarray(x16[lo:hi])[None], mask[None])[0]
    return restored[first - self.zone - lo:end + self.zone - lo]


def long_lpc(order: int = 1000) -> LongGap:
  """LPC for long gaps: Burg on up to 1 s of each context, order capped by the context
  (baselines.LongLPC); it needs `order` samples per side for the full order."""
  context = 16384
  return LongGap('longgap-lpc', baselines.LongLPC(order=order, max_context=context),
                 lambda n: (order, context),
                 'Burg linear prediction from up to 1 s on each side, forward and backward, '
                 'cross-faded')


def similarity() -> LongGap:
  """Copy the best-matching part of the surroundings with cross-fades (baselines.SimilarityGraph).
  It needs a copy of the gap, its fades and context frames on each side, and searches SEARCH
  samples beyond that."""
  base = baselines.SimilarityGraph()
  edge = base.fade + base.ctx * base.stft.hop + base.stft.n_fft
  return LongGap('similarity', base, lambda n: (n + 2 * edge, n + 2 * edge + SEARCH),
                 'the part of the surroundings whose spectrogram best matches the gap\'s edges, '
                 'copied in with cross-fades')


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
    restored = np.asarray(self.restore(window, sig)['restored'][0], np.float64)
    return restored[first - self.zone - w0:end + self.zone - w0]


class LongGapNetwork(Method):
  """Chang et al.'s spectrogram or waveform network (longgap/trained.py) on gaps of a file.

  It fills a window of one training clip (SC09: 1 s at 16 kHz) around each gap
  (TrainedNetwork.fill_gap), so it takes gaps up to half that clip, with a quarter of it
  (250 ms) of audio on both sides: the test protocol's 0.2 s gap has 0.4 s. The known
  samples come back bit-exact (zone 0, the paper's paste-back). The .keras file is loaded at
  the first gap, so refusals need no TensorFlow. No `restore`: evaluate's windows have 128 ms
  of context, and evaluate refuses the method (needs).
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

  def fill_gap(self, x16, first, end):
    return self.network.fill_gap(np.asarray(x16, np.float64), first, end, self.sig.sample_rate)


class LongGapSpec(LongGapNetwork):
  """The spectrogram network: gap magnitudes, then phase retrieval (phase_options.PHASES;
  the paper's Griffin-Lim is 'gl')."""

  def __init__(self, model: str = None, phase: str = 'pghi+fgla', iterations: int = 100):
    super().__init__('spec', model, phase, iterations)


class LongGapWave(LongGapNetwork):
  """The waveform network: the gap's samples directly."""

  def __init__(self, model: str = None):
    super().__init__('wave', model)


def masked() -> LongGap:
  """The gap set to zero (Chang et al.'s "Masked Input" row): a floor for evaluate."""
  return LongGap('masked', baselines.MaskedInput(), lambda n: (0, 0), 'the gap left silent')


# ---- the registry ----
_FACTORIES: Dict[str, Callable[..., Method]] = {}
_LONG = set()  # names of the long-gap methods


def register(name: str, factory: Callable[..., Method], long_gap: bool = False) -> None:
  """Makes `factory(**options)` available as method `name` (tables, `evaluate`, `inpaint`);
  long_gap: it fills gaps longer than 64 ms (inpaint offers it for them, tables leave it out)."""
  _FACTORIES[name] = factory
  if long_gap:
    _LONG.add(name)


def names() -> Tuple[str, ...]:
  """The paper's (short-gap) methods, in registration order: the tables' methods."""
  return tuple(n for n in _FACTORIES if n not in _LONG)


def long_gap_names() -> Tuple[str, ...]:
  """The methods that fill gaps longer than 64 ms, in registration order."""
  return tuple(n for n in _FACTORIES if n in _LONG)


def all_names() -> Tuple[str, ...]:
  """Every registered method (the choices of every --method flag)."""
  return tuple(_FACTORIES)


def trained(name: str) -> bool:
  """Whether method `name` needs a trained model (its factory says so: `trained = True`)."""
  return bool(getattr(_FACTORIES[name], 'trained', False))


def check_model(name: str, model: Optional[str], why: str = '') -> None:
  """A --model given to a method that reads none is refused, never silently ignored."""
  if model and not trained(name):
    readers = '|'.join(n for n in all_names() if trained(n))
    raise UserError(f'--model is for --method {readers}; {name}{why} reads no model')


def get(name: str, **options) -> Method:
  """The method `name` built with the options its factory takes (others are ignored, so one
  set of flags serves every method; None means the method's default)."""
  if name not in _FACTORIES:
    raise UserError(f'unknown method {name!r}; choose one of {", ".join(all_names())}')
  factory = _FACTORIES[name]
  accepted = inspect.signature(factory).parameters
  return factory(**{k: v for k, v in options.items() if k in accepted and v is not None})


register('network', Network)
register('interp', Interpolation)
register('lpc', LPC)
register('janssen', Janssen)
register('janssen-gapwise', JanssenGapwise)
register('longgap-lpc', long_lpc, long_gap=True)
register('similarity', similarity, long_gap=True)
register('deep-prior', deep_prior, long_gap=True)
register('longgap-interp', LongInterpolation, long_gap=True)
register('masked', masked, long_gap=True)
register('longgap-spec', LongGapSpec, long_gap=True)
register('longgap-wave', LongGapWave, long_gap=True)
