"""Which long-gap method `inpaint` uses by default, by measurement (docs/long_gaps.md): every
long-gap method on the same excerpts of music with two gaps of each length, ViSQOL (the excerpt
protocol, excerpts.py) beside SNR_TD.

  excerpts  6 s of 16 kHz audio (longer for gaps over 0.5 s: every candidate's context must fit)
            from a dataset's test tracks, spread evenly over them
  gaps      two of the length measured, at 1/3 and 2/3 of the excerpt
  methods   each that fills the length (its max_ms), and the gaps left silent as the floor
The default for a length is the method with the highest mean ViSQOL there. `measure_clips` does
the same on a long-gap clip set (the SC09-like and ESC-50-like stand-ins): their test clips with
the protocol's fixed gap, resampled to 16 kHz, ViSQOL in the protocol's mode.
"""

from typing import Dict, List, Sequence

import numpy as np

from audio_context_encoder import methods as methods_lib
from audio_context_encoder.audio import audio_file
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.data import clip_dataset
from audio_context_encoder.longgap import config as longgap_config
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import excerpts, perceptual

def excerpt_seconds(gap_ms: float) -> float:
  """6 s, or enough that between and beside the two gaps there is room for the context every
  candidate needs (similarity: a copy of the gap and 0.22 s of fades and frames on each side)."""
  return max(6.0, 3 * (2 * gap_ms / 1000 + 0.5))


def protocol_for(gap_ms: float) -> excerpts.ExcerptProtocol:
  seconds = excerpt_seconds(gap_ms)
  return excerpts.ExcerptProtocol(seconds=seconds, gaps=((seconds / 3, gap_ms), (2 * seconds / 3, gap_ms)))


def measure(data_dir: str, ms: float, names: Sequence[str], n: int, split: str = 'test',
            progress: bool = True) -> dict:
  """The excerpt record (excerpts.score_set) of every method in `names` that fills gaps of `ms`,
  on n excerpts of the split."""
  protocol = protocol_for(ms)
  chosen = excerpts.dataset_excerpts(data_dir, split, n, protocol)
  fills = {}
  for name in names:
    method = methods_lib.get(name)
    if ms <= method.max_ms:
      fills[name] = method
  return excerpts.run(chosen, fills, perceptual.Visqol('audio'), protocol=protocol,
                      progress=progress, title=f'{ms:g} ms',
                      snrs=lambda x, y: excerpts.gap_snr_td(x, y, protocol))


def measure_clips(folder: str, names: Sequence[str], n: int, progress: bool = True) -> dict:
  """The excerpt record of every method in `names` that can fill the protocol's test gap of a
  built long-gap clip folder (methods that need more context than the clip has are left out),
  on n of its test clips spread evenly (the quiet-gap ones left out, as in the long-gap tables)."""
  settings = clip_dataset.read_settings(folder)
  proto = longgap_config.get(settings['protocol'])
  clips, _ = clip_dataset.read_split(folder, 'test')
  start, end = proto.test_mask
  protocol = excerpts.ExcerptProtocol(seconds=proto.clip_seconds,
                                      gaps=((start, 1000 * (end - start)),))
  loud = proto.loud_test_gap(clips)
  picked = np.flatnonzero(loud)[metrics.spread_indices(int(loud.sum()), n)]
  chosen = [excerpts.Excerpt(f'{settings["source"]} test clip {i}', 0.0,
                             audio_file.resample(clips[i].astype(np.float64), proto.sample_rate,
                                                 excerpts.RATE)[:protocol.samples]) for i in picked]
  gap = protocol.gap_list()[0]
  first, last = gap.samples(excerpts.RATE)
  room = min(first, protocol.samples - last)
  fills = {}
  for name in names:
    method = methods_lib.get(name)
    if 1000 * gap.duration <= method.max_ms and method.needs(last - first)[0] <= room:
      fills[name] = method
  if not fills:
    raise UserError(f'{folder}: none of {", ".join(names)} fits its clips\' gap')
  mode = 'speech' if proto.name == 'sc09' else 'audio'
  return excerpts.run(chosen, fills, perceptual.Visqol(mode), protocol=protocol, progress=progress,
                      title=settings['source'], snrs=lambda x, y: excerpts.gap_snr_td(x, y, protocol))


def best(record: dict) -> str:
  """The method (not the silent floor) with the highest mean ViSQOL."""
  means = {name: float(np.mean(excerpts.scores_of(record, name))) for name in record['methods']
           if name != excerpts.ZEROED}
  return max(means, key=means.get)


def _rows(label: str, record: dict, unit: str, vs_best: bool) -> List[str]:
  """One table row per method of a scored set: ViSQOL mean (std), paired against silence (and
  against the best), SNR_TD."""
  top = best(record)
  rows = []
  for name in record['methods']:
    v = excerpts.scores_of(record, name)
    s = perceptual.summary(v)
    silent = perceptual.paired(v, excerpts.scores_of(record, excerpts.ZEROED))
    cells = [f'{label} ({len(record["excerpts"])} {unit})', top, name, f'{s["mean"]:.3f} ({s["std"]:.3f})',
             '—' if name == excerpts.ZEROED else f'{silent["mean"]:+.3f} ± {silent["se"]:.3f}']
    if vs_best:
      d = perceptual.paired(v, excerpts.scores_of(record, top))
      cells.append('—' if name == top else f'{d["mean"]:+.3f} ± {d["se"]:.3f}')
    cells.append(f'{metrics.summary(excerpts.scores_of(record, name, "snr_td"))["mean"]:.2f}')
    rows.append('| ' + ' | '.join(cells) + ' |')
  return rows


def clip_markdown(records: Dict[str, dict]) -> str:
  """The clip sets' part of the table: per set, every method's ViSQOL and SNR_TD."""
  lines = ['', '## On the long-gap clip stand-ins', '',
           'Their test clips with the protocol\'s fixed gap (SC09-like: 0.2 s in 1 s, ViSQOL speech '
           'mode; ESC-50-like: 0.4 s in 5 s, audio mode), resampled to 16 kHz as `inpaint` does; a '
           'method that needs more context than the clip has is left out.', '',
           '| set | best by ViSQOL | method | ViSQOL mean (std) | vs silent | SNR_TD mean (dB) |',
           '|---|---|---|---|---|---|']
  for source, record in records.items():
    lines += _rows(source, record, 'clips', vs_best=False)
  return '\n'.join(lines) + '\n'


def markdown(records: Dict[float, dict], data_dir: str, command: str) -> str:
  lines = ['# The default long-gap method, by measurement', '',
           f'Every long-gap method on the same excerpts of `{data_dir}` (test split; 6 s, 7.5 s for '
           '1 s gaps), two gaps of each length at 1/3 and 2/3 of the excerpt; ViSQOL v3 audio mode '
           '(MOS-LQO) against the original excerpt, SNR_TD over the gaps\' samples; the differences '
           'are paired over the same excerpts (mean ± standard error).', '']
  rows: List[str] = ['| gap | best by ViSQOL | ' + ' | '.join(['method', 'ViSQOL mean (std)',
                     'vs silent', 'vs best', 'SNR_TD mean (dB)']) + ' |', '|---|---|---|---|---|---|---|']
  for ms, record in records.items():
    rows += _rows(f'{ms:g} ms', record, 'excerpts', vs_best=True)
  ceiling = perceptual.summary([e['ceiling'] for r in records.values() for e in r['excerpts']])
  return '\n'.join(lines + rows + ['', f'Original vs itself (the ceiling): {ceiling["mean"]:.3f}.',
                                   f'Command: `{command}`', ''])
