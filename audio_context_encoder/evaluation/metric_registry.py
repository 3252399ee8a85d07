"""The metric registry: every score the package reports, named once with its direction and unit.

Tables 2-3 and `evaluate` (segment metrics), the long-gap Table 2 (clip metrics) and the excerpt
protocol (ViSQOL) read their columns here; a new metric is one function and one `register` call
(docs/extending.md). A metric's kind says what it scores and how it is called:

  SEGMENT  function(original [B, L], restored [B, L], sig) -> [B]: the first paper's 320 ms
           segments, gap [Lc, Lc + Lg) (evaluation.evaluate, the folder `evaluate`)
  CLIP     function(restored [B, T], target [B, T], mask [B, T], rate, context) -> [B] or None:
           the long-gap clips (audio_context_encoder/evaluation/longgap_scoring.py); `context` holds what a metric
           needs beyond the clips ('features': the perceptual-distance classifiers by label,
           'visqol': a perceptual.Visqol); None when that is absent (the column is not computed)
  EXCERPT  function(reference [T], degraded [T], rate, scorer) -> float: the excerpt protocol
           (excerpts.score_set; scorer: the perceptual.Visqol of the set)
"""

import dataclasses
from typing import Callable, Dict, Tuple

import numpy as np

from audio_context_encoder.dsp import metrics as snrs
from audio_context_encoder.longgap import metrics as longgap_metrics

SEGMENT, CLIP, EXCERPT = 'segment', 'clip', 'excerpt'
KINDS = (SEGMENT, CLIP, EXCERPT)


@dataclasses.dataclass(frozen=True)
class Metric:
  """A score: `name` keys its values in results, saved files and CSVs; `label` heads its column."""

  name: str
  label: str
  unit: str  # '' for a score without one
  higher_is_better: bool
  kind: str  # SEGMENT, CLIP or EXCERPT
  function: Callable
  about: str = ''  # what it measures and where it is defined

  @property
  def arrow(self) -> str:
    """↑ where a higher value is better, ↓ where a lower one is (the long-gap Table 2's heads)."""
    return '↑' if self.higher_is_better else '↓'


_METRICS: Dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
  """Adds `metric` (tables, `evaluate`, the long-gap tables read it from now on); its name must
  be new. Returns it."""
  if metric.kind not in KINDS:
    raise ValueError(f'{metric.name}: kind must be one of {KINDS}, got {metric.kind!r}')
  if metric.name in _METRICS:
    raise ValueError(f'a metric named {metric.name!r} is registered already')
  _METRICS[metric.name] = metric
  return metric


def unregister(name: str) -> None:
  del _METRICS[name]


def get(name: str) -> Metric:
  if name not in _METRICS:
    raise KeyError(f'unknown metric {name!r}; registered: {", ".join(_METRICS)}')
  return _METRICS[name]


def of_kind(kind: str) -> Tuple[Metric, ...]:
  """The metrics of one kind, in registration order (the order of the tables' columns)."""
  return tuple(m for m in _METRICS.values() if m.kind == kind)


def by_label(kind: str) -> Dict[str, Metric]:
  return {m.label: m for m in of_kind(kind)}


def _feature_distance(label: str) -> Callable:
  def distance(restored, target, mask, rate, context):
    features = (context or {}).get('features', {})
    return longgap_metrics.perceptual_distance(features[label], restored, target) if label in features else None
  return distance


def _clip_visqol(restored, target, mask, rate, context):
  scorer = (context or {}).get('visqol')
  if scorer is None:
    return None
  return np.array([scorer.score(t, r, rate) for t, r in zip(target, restored)])


# The first paper (§3.4): SNR_MS is the tables' score, SNR_TD beside it.
register(Metric('snr_ms', 'SNR_MS', 'dB', True, SEGMENT, snrs.snr_ms,
                'SNR of the DGT magnitudes on the gap\'s central columns (paper §3.4)'))
register(Metric('snr_td', 'SNR_TD', 'dB', True, SEGMENT, snrs.snr_td,
                'SNR of the gap\'s samples (paper §3.4)'))
# Chang et al. 2019, "Evaluation Metrics", and the perceptual score (docs/perceptual.md), in the
# order of the long-gap Table 2's columns.
register(Metric('ml1', 'ML1', '', False, CLIP,
                lambda restored, target, mask, rate, context: longgap_metrics.masked_l1(restored, target, mask),
                'masked L1 over the clip (Chang et al. eq. 2)'))
register(Metric('ssim', 'SSIM', '', True, CLIP,
                lambda restored, target, mask, rate, context: longgap_metrics.spectrogram_ssim(restored, target, rate),
                'SSIM of the dB spectrograms (Chang et al.)'))
register(Metric('snr_gap', 'SNR gap (dB)', 'dB', True, CLIP,
                lambda restored, target, mask, rate, context: longgap_metrics.snr_gap(restored, target, mask),
                'SNR of the gap\'s samples (SNR_TD of the first paper)'))
register(Metric('spectral_snr', 'spectral SNR (dB)', 'dB', True, CLIP,
                lambda restored, target, mask, rate, context: longgap_metrics.spectral_snr(restored, target, mask, rate),
                'SNR of the STFT magnitudes on the frames inside the gap (SNR_MS\'s analogue)'))
register(Metric('visqol_clip', 'ViSQOL', 'MOS-LQO', True, CLIP, _clip_visqol,
                'ViSQOL v3 of each clip against its original (docs/perceptual.md)'))
register(Metric('pd_wave', 'PD wave', '', False, CLIP, _feature_distance('PD wave'),
                'perceptual distance on the waveform classifier\'s features (Chang et al. eq. 3)'))
register(Metric('pd_spec', 'PD spec', '', False, CLIP, _feature_distance('PD spec'),
                'perceptual distance on the spectrogram classifier\'s features (Chang et al. eq. 3)'))
register(Metric('visqol', 'ViSQOL', 'MOS-LQO', True, EXCERPT,
                lambda reference, degraded, rate, scorer: scorer.score(reference, degraded, rate),
                'ViSQOL v3, audio mode at 48 kHz or speech mode at 16 kHz (docs/perceptual.md)'))
