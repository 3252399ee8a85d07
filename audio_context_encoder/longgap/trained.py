"""A trained long-gap network (Chang et al. 2019, Fig. 2) with the baselines' interface.

A shipped network is two files: NAME.keras (the model) and NAME.json (its provenance: the
trainer's run.json, i.e. 'model' ('spec' or 'wave'), 'preset', 'config' and 'protocol', plus
what experiments/longgap/ship.py adds). `TrainedNetwork(path).fill(clips, mask)` fills
clips of the protocol's length like baselines.py's methods do: zone 0, the known samples come
back bit-exact (the paper's paste-back). `fill_gap(x, first, end, rate)` fills one gap of a
longer signal at any rate through a clip-long window around it (methods.LongGapNetwork).
The spectrogram network's phase: phase_options.PHASES (default 'pghi+fgla': masked PGHI +
FGLA from the context; the paper used Griffin-Lim). docs/longgap_models.md.
"""

import dataclasses
import json
import math
import pathlib

import numpy as np

from audio_context_encoder.audio import audio_file
from audio_context_encoder.longgap import baselines
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import model_config


def longgap_model_file(kind: str, protocol: str = 'sc09', baseline: str = '') -> str:
  """The name of a shipped long-gap network in models/ (experiments/longgap/ship.py writes it);
  a baseline-start one (model_config.BASELINES) is longgap-spec-<baseline>-<protocol>."""
  return f'longgap-{kind}{f"-{baseline}" if baseline else ""}-{protocol}.keras'


def _tuples(value):
  return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def read_provenance(path) -> dict:
  """The JSON beside a .keras file (ValueError naming the file when missing or incomplete)."""
  path = pathlib.Path(path).with_suffix('.json')
  try:
    record = json.loads(path.read_text())
  except FileNotFoundError:
    raise ValueError(f'{path}: missing (a long-gap network ships with its JSON)') from None
  except json.JSONDecodeError as e:
    raise ValueError(f'{path}: not valid JSON ({e})') from None
  missing = [k for k in ('model', 'config', 'protocol') if k not in record]
  if missing or record['model'] not in model_config.PRESETS:
    raise ValueError(f'{path}: not a long-gap network record (missing {missing or "a known model"})')
  return record


def config_of(record: dict):
  """The WaveModelConfig or SpectrogramModelConfig recorded in a provenance/run record."""
  cls = model_config.WaveModelConfig if record['model'] == 'wave' else model_config.SpectrogramModelConfig
  names = {f.name for f in dataclasses.fields(cls)}
  return cls(**{k: _tuples(v) for k, v in record['config'].items() if k in names})


class TrainedNetwork:
  """Table 2's "Ours (Spec.)" / "Ours (Wave.)": a trained network loaded from NAME.keras."""

  zone, context, oracle = 0, None, False

  def __init__(self, path, phase: str = 'pghi+fgla', iterations: int = 100):
    import keras  # here, so that reading this module does not start TensorFlow (methods.py)
    from audio_context_encoder.longgap import models  # noqa: F401 (registers the gated layers)

    path = pathlib.Path(path)
    self.record = read_provenance(path)
    if not path.exists():
      raise ValueError(f'{path}: missing (run the command in {path.with_suffix(".json").name})')
    self.kind, self.cfg = self.record['model'], config_of(self.record)
    self.protocol = config.get(self.record['protocol'])
    self.model = keras.models.load_model(path, compile=False)
    self.phase, self.iterations = phase, iterations
    self.name = f'longgap-{self.kind}'

  def fill(self, clips, mask):
    from audio_context_encoder.longgap import models  # Keras: see __init__

    x, m = baselines.check(clips, mask)
    if x.shape[1] != self.protocol.clip_samples:
      raise ValueError(f'this network takes {self.protocol.name} clips of '
                       f'{self.protocol.clip_samples} samples, got {x.shape[1]}')
    if self.kind == 'wave':
      out = models.inpaint_waveform(self.model, x, m).astype(np.float64)
    else:
      out = models.inpaint_spectrogram(self.model, x, m, self.cfg, self.phase, self.iterations)
    return np.where(m, out, x)

  def fill_gap(self, x, first: int, end: int, rate: int) -> np.ndarray:
    """[first, end) of the 1-D signal x at `rate`, filled (any rate, any position).

    The network only takes whole clips of its protocol, so it runs on a window of one clip's
    duration around the gap, the gap as central as x allows (zeros beyond x's ends, as the
    datasets pad short clips), resampled to the network's rate. Only the gap comes back,
    resampled to `rate`; at another rate the mask also covers 1 ms on each side of the gap,
    where the resampling filter smears the damaged samples into the context.
    """
    p = self.protocol
    clip, n = int(round(p.clip_samples * rate / p.sample_rate)), end - first
    if not 0 < n <= clip or first < 0 or end > len(x):
      raise ValueError(f'gap [{first}, {end}) does not fit a {clip}-sample window of x')
    lo, hi = min(0, len(x) - clip), max(0, len(x) - clip)
    start = int(np.clip(first - (clip - n) // 2, lo, hi))
    window = np.zeros(clip)
    a, b = max(start, 0), min(start + clip, len(x))
    window[a - start:b - start] = x[a:b]
    g0, g1 = first - start, end - start
    if rate != p.sample_rate:
      window = _fit(audio_file.resample(window, rate, p.sample_rate), p.clip_samples)
      guard = math.ceil(p.sample_rate / 1000)
      g0, g1 = (max(int(g0 * p.sample_rate // rate) - guard, 0),
                min(math.ceil(g1 * p.sample_rate / rate) + guard, p.clip_samples))
    mask = np.zeros(p.clip_samples, bool)
    mask[g0:g1] = True
    out = self.fill(window[None], mask[None])[0]
    if rate != p.sample_rate:
      out = _fit(audio_file.resample(out, p.sample_rate, rate), clip)
    return out[first - start:end - start]


def _fit(x: np.ndarray, n: int) -> np.ndarray:
  """x cut or zero-padded to n samples (resample_poly rounds lengths up)."""
  return np.pad(x[:n], (0, max(n - len(x), 0)))
