"""A perceptual score: ViSQOL v3's MOS-LQO (1-5) of a restored signal against the original.

The SNRs of the paper (metrics.py) disagree about which method wins, and inpainting is judged by
listening. ViSQOL v3 (Chinen et al., "ViSQOL v3: an open source production ready objective
speech and audio metric", QoMEX 2020) models that judgement; `visqol-python` is a pure-Python
port of Google's C++ code that matches its conformance tests (docs/perceptual.md). Its two
modes and the rates they are defined at:

  audio   music and general audio, at 48 kHz (an SVR maps the similarity to MOS-LQO)
  speech  speech at 16 kHz (the deep-lattice mapper of the C++ default, ai-edge-litert)

Signals at other rates are resampled with audio_file.resample (scipy's polyphase FIR), the
resampler `inpaint` uses. The reference scored against itself is the ceiling a restoration
can reach; it is not 5.
"""

import contextlib
import io
import logging
from typing import Dict, Sequence

import numpy as np

from audio_context_encoder.audio import audio_file
from audio_context_encoder.dsp import metrics

MODES = {'audio': 48000, 'speech': 16000}


class Visqol:
  """ViSQOL v3 in one mode, built once (the first score also compiles numba's kernels)."""

  def __init__(self, mode: str = 'audio'):
    if mode not in MODES:
      raise ValueError(f'ViSQOL mode must be one of {tuple(MODES)}, got {mode!r}')
    self.mode, self.rate, self._api = mode, MODES[mode], None

  @property
  def api(self):
    if self._api is None:
      from visqol import VisqolApi  # numba and, in speech mode, LiteRT: loaded when first used
      logging.getLogger('visqol').setLevel(logging.ERROR)
      api = VisqolApi()
      with contextlib.redirect_stdout(io.StringIO()):
        api.create(mode=self.mode)
      self._api = api
    return self._api

  @property
  def mapper(self) -> str:
    """How similarity becomes MOS-LQO in this mode (for the tables' notes)."""
    if self.mode == 'audio':
      return 'SVR (audio mode)'
    try:
      import ai_edge_litert  # noqa: F401
      return 'deep lattice (speech mode, as the C++ default)'
    except ImportError:
      return 'polynomial (speech mode; ai-edge-litert missing: may read 1-2 points high)'

  def score(self, reference, degraded, rate: int) -> float:
    """MOS-LQO of `degraded` against `reference` (mono, same length, at `rate`)."""
    ref = np.asarray(reference, np.float64)
    deg = np.asarray(degraded, np.float64)
    if ref.shape != deg.shape or ref.ndim != 1:
      raise ValueError(f'reference and degraded must be mono and alike, got {ref.shape} and '
                       f'{deg.shape}')
    ref, deg = (audio_file.resample(x, rate, self.rate) for x in (ref, deg))
    with contextlib.redirect_stdout(io.StringIO()):
      return float(self.api.measure_from_arrays(ref, deg, sample_rate=self.rate).moslqo)


def paired(a: Sequence[float], b: Sequence[float]) -> Dict[str, float]:
  """Mean of a - b over the same excerpts and its standard error (sample std / sqrt n): how
  far apart two methods are beyond the spread of the excerpts themselves."""
  d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
  d = d[np.isfinite(d)]
  if not d.size:
    return {'mean': float('nan'), 'se': float('nan'), 'n': 0}
  se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float('nan')
  return {'mean': float(d.mean()), 'se': se, 'n': int(d.size)}


def summary(values) -> dict:
  """The tables' summary (metrics.summary: mean, population std, finite count)."""
  return metrics.summary(values)
