"""The excerpt protocol: the perceptual score (perceptual.py) on excerpts of a few seconds that
hold several gaps, every method filling the same gaps (docs/perceptual.md).

ViSQOL needs longer signals than a 320 ms segment, and one 64 ms gap in a 30 s track barely
moves it, so the tables' segments cannot be scored by ear-like measures. Instead:

  * excerpts of PROTOCOL.seconds (3 s) of 16 kHz audio, from the test split's tracks (the
    records' windows put back together) or a user's files, taken evenly over all of them
    (metrics.spread_indices over every non-overlapping 3 s slot of every track);
  * in each, the gaps of PROTOCOL.gaps at fixed positions: the paper's 64 and 48 ms, each with
    far more than 128 ms of clean context on both sides, zeroed, then filled by every method
    through inpaint.fill_gaps (the function behind `inpaint`);
  * per excerpt and method: ViSQOL (against the original excerpt), SNR_TD over all its gaps'
    samples, SNR_MS (metrics.snr_ms on the paper's window around each gap, averaged); the
    zeroed excerpt and the original against itself (the ceiling) are scored too.

`run` saves each excerpt's WAVs and an `excerpts.json`, which listening.py turns into a page.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_file
from audio_context_encoder.audio import audio_io
from audio_context_encoder.methods import inpaint
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import perceptual
from audio_context_encoder.evaluation import metric_registry
from audio_context_encoder import config as config_lib
from audio_context_encoder.common.errors import AudioDecodeError, UserError

RATE = 16000
ZEROED = 'zeroed'  # the damaged excerpt itself: the floor every method should beat
ORIGINAL = 'original'


@dataclasses.dataclass(frozen=True)
class ExcerptProtocol:
  """Where the gaps go (docs/perceptual.md): 3 s, a 64 ms gap at 0.75 s, 48 ms at 1.5 s, 64 ms at
  2.25 s; each has 0.7 s of clean audio on both sides (the network needs 128 ms)."""

  seconds: float = 3.0
  gaps: Tuple[Tuple[float, float], ...] = ((0.75, 64.0), (1.5, 48.0), (2.25, 64.0))

  @property
  def samples(self) -> int:
    return int(round(self.seconds * RATE))

  def gap_list(self) -> List[inpaint.Gap]:
    return [inpaint.Gap(start, ms / 1000) for start, ms in self.gaps]


PROTOCOL = ExcerptProtocol()


@dataclasses.dataclass
class Excerpt:
  """`audio` (16 kHz, float64) of `source` from `start_s` on."""

  source: str
  start_s: float
  audio: np.ndarray

  def damaged(self, protocol: ExcerptProtocol = PROTOCOL) -> np.ndarray:
    x = self.audio.copy()
    for gap in protocol.gap_list():
      first, end = gap.samples(RATE)
      x[first:end] = 0
    return x


def _slots(length: int, protocol: ExcerptProtocol) -> List[int]:
  """Starts of the non-overlapping excerpts inside `length` samples of contiguous audio."""
  return list(range(0, length - protocol.samples + 1, protocol.samples))


def dataset_excerpts(data_dir, split: str, n: int, protocol: ExcerptProtocol = PROTOCOL,
                     batch_size: int = 256) -> List[Excerpt]:
  """n excerpts spread evenly over every track of a dataset split, put back together from its
  records (each holds a 320 ms segment and its offset in the 16 kHz track; consecutive segments
  overlap, so a track's audio is contiguous wherever its windows were kept). The records'
  margins are left out: at a track's ends they are padding, not audio."""
  from audio_context_encoder.context_encoder import reader  # TensorFlow (tf.data)
  runs: Dict[str, List[List[int]]] = {}
  for batch in reader.evaluation_dataset(data_dir, split, 64, batch_size, threshold=0.0):
    width = batch['segment'].shape[1]
    for track, offset in zip(batch['track_id'].numpy(), batch['offset'].numpy()):
      lo, hi = int(offset), int(offset) + width
      spans = runs.setdefault(track.decode(), [])
      if spans and lo <= spans[-1][1]:
        spans[-1][1] = max(spans[-1][1], hi)
      else:
        spans.append([lo, hi])
  candidates = [(track, lo + start) for track, spans in runs.items() for lo, hi in spans
                for start in _slots(hi - lo, protocol)]
  if not candidates:
    raise UserError(f'{data_dir}: no {protocol.seconds:g} s of contiguous audio in the {split} '
                    'split for the excerpt protocol')
  chosen = [candidates[i] for i in metrics.spread_indices(len(candidates), n)]
  wanted: Dict[str, List[Tuple[int, np.ndarray]]] = {}
  for track, start in chosen:
    wanted.setdefault(track, []).append((start, np.full(protocol.samples, np.nan)))
  for batch in reader.evaluation_dataset(data_dir, split, 64, batch_size, threshold=0.0):
    segments = batch['segment'].numpy().astype(np.float64)
    for track, offset, window in zip(batch['track_id'].numpy(), batch['offset'].numpy(), segments):
      for start, buf in wanted.get(track.decode(), ()):
        lo = int(offset) - start
        a, b = max(lo, 0), min(lo + len(window), len(buf))
        if a < b:
          buf[a:b] = window[a - lo:b - lo]
  out = [Excerpt(track, start / RATE, buf) for track, items in wanted.items() for start, buf in items]
  order = {c: i for i, c in enumerate(chosen)}
  return sorted(out, key=lambda e: order[(e.source, int(round(e.start_s * RATE)))])


def file_excerpts(paths: Sequence[str], n: int, protocol: ExcerptProtocol = PROTOCOL,
                  log=print) -> List[Excerpt]:
  """n excerpts spread evenly over audio files (decoded to 16 kHz mono as the datasets are);
  undecodable files and files shorter than one excerpt are named and left out."""
  decoded, candidates = {}, []
  for path in paths:
    try:
      x = audio_io.load(path, RATE).astype(np.float64)
    except AudioDecodeError as e:
      log(f'skipped: {e}')
      continue
    if len(x) < protocol.samples:
      log(f'skipped: {path}: shorter than one {protocol.seconds:g} s excerpt')
      continue
    decoded[str(path)] = x
    candidates += [(str(path), start) for start in _slots(len(x), protocol)]
  if not candidates:
    raise UserError(f'no file holds a {protocol.seconds:g} s excerpt')
  return [Excerpt(path, start / RATE, decoded[path][start:start + protocol.samples])
          for path, start in (candidates[i] for i in metrics.spread_indices(len(candidates), n))]


def _snr_over(original, restored, spans) -> float:
  """SNR_TD over the samples of all the spans [a, b) together."""
  ref = np.concatenate([original[a:b] for a, b in spans])
  est = np.concatenate([restored[a:b] for a, b in spans])
  return float(metrics.snr(ref[None], est[None])[0])


def gap_snr_td(original, restored, protocol: ExcerptProtocol) -> Dict[str, float]:
  """SNR_TD over all the excerpt's gap samples together (gaps of any length)."""
  return {'snr_td': _snr_over(original, restored, [gap.samples(RATE) for gap in protocol.gap_list()])}


def gap_snrs(original, restored, protocol: ExcerptProtocol = PROTOCOL) -> Dict[str, float]:
  """SNR_TD over all the excerpt's gap samples together, and SNR_MS (the paper's columns, on
  the 320 ms window of each gap's length around it), averaged over the gaps."""
  spans, ms_values = [], []
  for start, ms in protocol.gaps:
    sig = config_lib.signal_config(int(ms))
    first = int(round(start * RATE))
    spans.append((first, first + sig.Lg))
    w = slice(first - sig.Lc, first - sig.Lc + sig.L)
    ms_values.append(float(metrics.snr_ms(original[None, w], restored[None, w], sig)[0]))
  return {'snr_td': _snr_over(original, restored, spans), 'snr_ms': float(np.mean(ms_values))}


def run(excerpts: Sequence[Excerpt], methods: Dict[str, object], scorer: perceptual.Visqol,
        out_dir: Optional[str] = None, title: str = '', protocol: ExcerptProtocol = PROTOCOL,
        progress: bool = True, snrs=None) -> dict:
  """Every method on every excerpt: scores, and (with out_dir) the WAVs and excerpts.json.

  methods: {name: methods.Method}; snrs(original, restored) -> {'snr_td', ...} (default
  gap_snrs: SNR_TD and the paper's SNR_MS, for gaps of 48 or 64 ms). Returns the record of
  `score_set`, zeroed first."""
  from tqdm import tqdm
  gaps = protocol.gap_list()
  signals = {ZEROED: [], **{name: [] for name in methods}}
  for ex in tqdm(excerpts, unit='excerpt', desc=f'perceptual {title}'.strip(), disable=not progress):
    if not np.all(np.isfinite(ex.audio)):
      raise UserError(f'{ex.source} at {ex.start_s:g} s: the excerpt is not contiguous audio')
    damaged = ex.damaged(protocol)
    signals[ZEROED].append(damaged)
    for name, method in methods.items():
      signals[name].append(inpaint.fill_gaps(damaged, RATE, gaps, method=method))
  descriptions = {ZEROED: 'the gaps left silent: the damaged excerpt',
                  **{n: getattr(m, 'description', '') for n, m in methods.items()}}
  snrs = snrs or (lambda x, y: gap_snrs(x, y, protocol))
  return score_set(excerpts, signals, scorer, RATE, dataclasses.asdict(protocol), descriptions,
                   snrs, out_dir, title)


def score_set(excerpts: Sequence[Excerpt], signals: Dict[str, Sequence[np.ndarray]],
              scorer: perceptual.Visqol, rate: int, protocol: dict, descriptions: Dict[str, str],
              snrs, out_dir: Optional[str] = None, title: str = '') -> dict:
  """The record of a set of excerpts (the page's and the tables' input): per excerpt the ceiling
  and, per signal, ViSQOL and snrs(original, restored) -> {'snr_td', 'snr_ms'}; with out_dir the
  WAVs (rate Hz, 16-bit) and excerpts.json there. protocol: {'seconds', 'gaps': [(start s, ms)]}.

  Returns {'title', 'protocol', 'rate', 'visqol_mode', 'mapper', 'methods', 'descriptions',
  'excerpts': [{'id', 'source', 'start_s', 'files', 'scores': {name: {'visqol', 'snr_td',
  'snr_ms'}}, 'ceiling'}]}."""
  record = {'title': title, 'protocol': protocol, 'rate': rate, 'visqol_mode': scorer.mode,
            'mapper': scorer.mapper, 'methods': list(signals), 'descriptions': descriptions,
            'excerpts': []}
  for i, ex in enumerate(excerpts):
    entry = {'id': f'{i:03d}', 'source': ex.source, 'start_s': round(ex.start_s, 4),
             'ceiling': scorer.score(ex.audio, ex.audio, rate), 'scores': {}, 'files': {}}
    for name, outputs in signals.items():
      entry['scores'][name] = {**{m.name: m.function(ex.audio, outputs[i], rate, scorer)
                                  for m in metric_registry.of_kind(metric_registry.EXCERPT)},
                               **snrs(ex.audio, outputs[i])}
    if out_dir:
      os.makedirs(os.path.join(out_dir, entry['id']), exist_ok=True)
      for name, y in [(ORIGINAL, ex.audio)] + [(n, o[i]) for n, o in signals.items()]:
        entry['files'][name] = f'{entry["id"]}/{name.replace(" ", "_")}.wav'
        audio_file.write(os.path.join(out_dir, entry['files'][name]),
                         audio_file.Audio(np.asarray(y, np.float64)[:, None], rate, 'WAV', 'PCM_16'))
    record['excerpts'].append(entry)
  if out_dir:
    atomic.write_json(os.path.join(out_dir, 'excerpts.json'), record, indent=1)
  return record


def scores_of(record: dict, name: str, key: str = 'visqol') -> np.ndarray:
  return np.array([e['scores'][name][key] for e in record['excerpts']], np.float64)


def table(record: dict) -> str:
  """Markdown: per method ViSQOL mean (std), its paired difference to the zeroed excerpt and to
  the best other method (± standard error), SNR_TD and SNR_MS; the ceiling; pairwise differences."""
  names = record['methods']
  ceiling = perceptual.summary([e['ceiling'] for e in record['excerpts']])
  lines = [f'| method | ViSQOL MOS-LQO mean (std) | vs {ZEROED} (± s.e.) | SNR_TD mean (dB) | '
           'SNR_MS mean (dB) |', '|---|---|---|---|---|']
  for name in names:
    s = perceptual.summary(scores_of(record, name))
    d = perceptual.paired(scores_of(record, name), scores_of(record, ZEROED))
    vs = '—' if name == ZEROED else f'{d["mean"]:+.3f} ± {d["se"]:.3f}'
    td = metrics.summary(scores_of(record, name, 'snr_td'))['mean']
    ms = metrics.summary(scores_of(record, name, 'snr_ms'))['mean']
    lines.append(f'| {name} | {s["mean"]:.3f} ({s["std"]:.3f}) | {vs} | {td:.2f} | {ms:.2f} |')
  lines.append(f'| original vs itself (ceiling) | {ceiling["mean"]:.3f} ({ceiling["std"]:.3f}) | | | |')
  others = [n for n in names if n != ZEROED]
  if len(others) > 1:
    lines += ['', 'Paired ViSQOL differences, row minus column, mean ± standard error over the '
              'same excerpts:', '', '| | ' + ' | '.join(others) + ' |',
              '|---|' + '---|' * len(others)]
    for a in others:
      cells = []
      for b in others:
        d = perceptual.paired(scores_of(record, a), scores_of(record, b))
        cells.append('—' if a == b else f'{d["mean"]:+.3f} ± {d["se"]:.3f}')
      lines.append(f'| {a} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'
