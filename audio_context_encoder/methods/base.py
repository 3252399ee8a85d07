"""The Method interface (one small abstract base, its result) and the registry that names
methods: what a new method gets without new plumbing (docs/extending.md)."""

import abc
import dataclasses
import inspect
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from audio_context_encoder.common.errors import UserError
from audio_context_encoder.config import SignalConfig


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


@dataclasses.dataclass
class Restored:
  """What `Method.restore` returns: the restored segments, and what the tables read beside them."""

  restored: np.ndarray  # [B, L]
  magnitudes: Optional[np.ndarray] = None  # [B, gap_frames, bins] before phase retrieval
  n_fallback: Optional[int] = None  # segments a fallback filled (LPC's silent contexts)


class Method(abc.ABC):
  """Fills gaps. Subclasses implement `restore`; the rest follows from it."""

  name = 'method'
  description = ''  # what it does, in a sentence for a listener (the listening page)
  zone = 0  # samples on each side of the gap it may change
  edge_guard = 0  # extra 16 kHz samples it wants filled around a resampled gap (inpaint)
  trained = False  # needs a trained model (tables evaluate it only where one is given)
  hint = ''  # appended to inpaint's refusal of a gap: what this method takes, what else to use
  fallbacks = 0  # gaps of fill_gap it could not fill as designed (fallback_note says how)

  def __init__(self, sig: SignalConfig):
    self.sig = sig  # the layout of `fill_gap` (and the only one where `fills` says so)
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
    """Whether `fill` takes windows of layout `sig` as they are (else: wrap it in Extended);
    a method trained for one layout says so here."""
    return True

  def fallback_note(self) -> str:
    """One line for the user after inpainting when `fallbacks` > 0: what happened to those gaps."""
    return (f'{self.name} could not fill {self.fallbacks} gap(s) as designed (a silent or '
            'constant context, or no similar part found; that gap is held or left silent)')

  @abc.abstractmethod
  def restore(self, segments: np.ndarray, sig: SignalConfig) -> Restored:
    """The segments [B, L] of layout `sig` with their gap [Lc, Lc + Lg) filled."""

  def fill(self, windows, sig: SignalConfig) -> np.ndarray:
    """Restored segments [B, L] of windows [B, L + 2 margin]."""
    return self.restore(segments_of(windows, sig)[0], sig).restored

  def fill_gap(self, x16: np.ndarray, first: int, end: int) -> np.ndarray:
    """The samples of [first - zone, end + zone) of x16 with [first, end) filled: the method
    runs on the L-sample window of its layout that holds the gap, centred where it can be."""
    sig = self.sig
    start = network_window(first, end, len(x16), sig)
    window = x16[start:start + sig.L].astype(np.float32)[None]
    restored = np.asarray(self.restore(window, sig).restored[0], dtype=np.float64)
    return restored[first - self.zone - start:end + self.zone - start]


# ---- the registry ----
_FACTORIES: Dict[str, Callable[..., Method]] = {}
_LONG = set()  # names of the long-gap methods


def register(name: str, factory: Callable[..., Method] = None, long_gap: bool = False):
  """Makes `factory(**options)` available as method `name` (tables, `evaluate`, `inpaint`);
  long_gap: it fills gaps longer than 64 ms (inpaint offers it for them, tables leave it out).
  Without `factory`, a decorator for the class or function that builds the method, at its
  definition: @register('lpc'). Names list in the order they were registered."""
  if factory is None:
    return lambda f: register(name, f, long_gap)
  _FACTORIES[name] = factory
  if long_gap:
    _LONG.add(name)
  return factory


def unregister(name: str) -> None:
  """Takes method `name` out again (a test's or a session's own method)."""
  del _FACTORIES[name]
  _LONG.discard(name)


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
