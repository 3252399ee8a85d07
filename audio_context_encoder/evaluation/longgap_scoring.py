"""Scoring long-gap methods on a built dataset's test split; no flags, so that the entry points
(experiments/longgap/score.py, experiments/longgap/tables.py) and the tests share it.

The fixed test mask of the protocol (SC09 0.4-0.6 s, ESC-50 3.0-3.4 s); clips whose gap RMS is
below min_gap_rms are left out (silent gaps: SNRs undefined). Deep Prior is costly: it runs on
the first dp_clips of the evaluated clips, once per clip, both phase options from one fit.
"""

import dataclasses
import time

import numpy as np

from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.data import clip_dataset
from audio_context_encoder.dsp import metrics as base_metrics
from audio_context_encoder.evaluation import metric_registry
from audio_context_encoder.longgap import baselines
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import deep_prior
from audio_context_encoder.longgap import phase_options

NAMES = {'masked': 'Masked input', 'griffinlim_gt': 'Griffin-Lim GT (oracle)',
         'context_phase_gt': 'GT magnitude + masked PGHI/FGLA (oracle, not in the paper)',
         'lpc': 'LPC (Burg, both sides)', 'simgraph': 'Similarity graph (simplified)',
         'masked dp': 'Masked input, on the Deep Prior clips', 'deep_prior gl': 'Deep Prior + Griffin-Lim',
         'deep_prior pghi+fgla': 'Deep Prior + masked PGHI/FGLA'}
# The perceptual distances on the waveform / spectrogram classifier (clip metrics of
# evaluation/metric_registry.py that need the classifiers' features).
PD = (metric_registry.get('pd_wave').label, metric_registry.get('pd_spec').label)


def visqol_for(protocol: config.Protocol):
  """ViSQOL v3 in the mode of the protocol's sound (docs/perceptual.md): speech mode for the
  SC09 digits, audio mode for ESC-50's environmental sounds."""
  from audio_context_encoder.evaluation import perceptual
  return perceptual.Visqol('speech' if protocol.name == 'sc09' else 'audio')


@dataclasses.dataclass
class Selection:
  """The evaluated clips of a split: the loud-gap ones, spread evenly, with the test mask."""

  settings: dict
  protocol: config.Protocol
  clips: np.ndarray  # float64 [N, T]
  mask: np.ndarray  # bool [N, T]
  n_total: int
  n_quiet: int


def select(folder, split: str = 'test', max_clips: int = 40, min_gap_rms: float = 1e-4) -> Selection:
  """Raises DatasetError (one line) for a missing or unbuilt folder."""
  settings = clip_dataset.read_settings(folder)
  clips, _ = clip_dataset.read_split(folder, split)
  proto = config.get(settings['protocol'])
  clips = clips.astype(np.float64)
  loud = proto.loud_test_gap(clips, min_gap_rms)
  eligible = clips[loud]
  if not len(eligible):
    raise DatasetError(
        f'{folder}: none of its {len(clips)} {split} clips has a test gap with an RMS of at least '
        f'{min_gap_rms:g} (--lgt_min_gap_rms); lower it')
  idx = base_metrics.spread_indices(len(eligible), max_clips)
  return Selection(settings, proto, eligible[idx], proto.test_mask_array(len(idx)), len(clips),
                   int((~loud).sum()))


def classifier_features(folder) -> dict:
  """{'PD wave': Psi, 'PD spec': Psi} from the saved classifiers ({} without a folder)."""
  if not folder:
    return {}
  from audio_context_encoder.longgap import classifier_training as trainer
  return {name: trainer.saved_features(folder, kind) for name, kind in zip(PD, ('wave', 'spec'))}


def score(restored, clips, mask, rate, psis=None, visqol=None) -> dict:
  """Per-clip scores {column label: [B]} of every registered clip metric that can run: the
  perceptual distances with their classifiers' features `psis` ({label: Psi}), ViSQOL with a
  perceptual.Visqol."""
  context = {'features': psis or {}, 'visqol': visqol}
  out = {}
  for metric in metric_registry.of_kind(metric_registry.CLIP):
    values = metric.function(restored, clips, mask, rate, context)
    if values is not None:
      out[metric.label] = values
  return out


def evaluate(clips, mask, rate, dp_clips, dp_iterations, lpc_order, psis=None, methods=(),
             keep=None, progress=None, visqol=None, keep_index=(0,)):
  """{row name: (scores, seconds, clips)}; psis: perceptual-distance features by column;
  methods: more (row name, method with .fill) rows, e.g. trained networks; keep: a dict that
  receives each row's outputs on the clips of keep_index (the figure, the listening page; Deep
  Prior's rows only when they cover them); progress(row name): called per row; visqol: a
  perceptual.Visqol for the ViSQOL column (its time is not the method's)."""
  keep_index = np.asarray(keep_index)
  rows = {}

  def run(name, method, x, m):
    t0 = time.perf_counter()
    out = method.fill(x, m)
    seconds = time.perf_counter() - t0
    rows[name] = (score(out, x, m, rate, psis, visqol), seconds, len(x))
    if keep is not None and keep_index.max() < len(x):
      keep[name] = out[keep_index]
    if progress:
      progress(name)

  for method in (baselines.MaskedInput(), baselines.GriffinLimGT(), baselines.ContextPhaseGT(),
                 baselines.LongLPC(lpc_order),
                 baselines.SimilarityGraph()):
    run(method.name, method, clips, mask)
  for name, method in methods:
    run(name, method, clips, mask)
  if dp_clips:
    dp = deep_prior.DeepPrior(iterations=dp_iterations)
    sub, sub_mask = clips[:dp_clips], mask[:dp_clips]
    outs = {p: np.where(sub_mask, 0.0, sub) for p in phase_options.PHASES}
    phase_s = {p: 0.0 for p in phase_options.PHASES}
    for i in range(len(sub)):
      s, e = config.gap_bounds(sub_mask[i])
      est = dp.estimate(outs['gl'][i], s, e)
      for p in phase_options.PHASES:
        t0 = time.perf_counter()
        outs[p][i] = phase_options.to_waveform(outs[p][i], est, s, e, p)
        phase_s[p] += time.perf_counter() - t0
    for p in phase_options.PHASES:
      rows[f'deep_prior {p}'] = (score(outs[p], sub, sub_mask, rate, psis, visqol),
                                 sum(dp.fit_seconds) + phase_s[p], len(sub))
      if keep is not None and keep_index.max() < len(sub):
        keep[f'deep_prior {p}'] = outs[p][keep_index]
    if progress:
      progress('deep_prior')
    # the reference on the same clips: Deep Prior's rows cover fewer
    run('masked dp', baselines.MaskedInput(), sub, sub_mask)
  return rows


def fmt(values) -> str:
  s = base_metrics.summary(values)
  extra = f' ({s["n_nonfinite"]} undefined)' if s['n_nonfinite'] else ''
  return f'{s["mean"]:.4f} ± {s["std"]:.4f}{extra}'
