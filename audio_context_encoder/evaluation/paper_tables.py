"""Tables 2 and 3 of the paper: their numbers, our summary of a column, the written tables.

experiments/tables.py runs the evaluations (absl flags); what a table *is* lives here, so
that the tables, `evaluate` and the README summarise per-segment values one way
(metrics.summary) and the paper's numbers are written down once (docs/reference.md,
"Reconstruction and evaluation").
"""

import csv
import datetime
import io
from typing import Dict, Optional, Tuple

import numpy as np

from audio_context_encoder.common import atomic
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import metric_registry

# The paper's SNR_MS (dB), mean and std over segments, per (table, dataset, method).
PAPER = {
    (2, 'music', 'network'): (7.7, 4.3), (2, 'music', 'lpc'): (6.3, 5.1),
    (2, 'instruments', 'network'): (22.0, 10.4), (2, 'instruments', 'lpc'): (30.6, 18.9),
    (3, 'music', 'network'): (8.0, 4.6), (3, 'music', 'lpc'): (6.9, 5.5),
    (3, 'instruments', 'network'): (21.6, 11.5), (3, 'instruments', 'lpc'): (33.2, 20.1),
}
TABLE_GAP = {2: 64, 3: 48}  # gap length (ms) of each table
KINDS = ('music', 'instruments')
# Column heads, the same in both tables (the paper calls the network "Mag" in Table 2 and "ours"
# in Table 3: one network, one name here).
HEADS = {'network': 'Network', 'interp': 'Interp', 'lpc': 'LPC', 'janssen': 'Janssen',
         'janssen-gapwise': 'Janssen gap-wise'}


def summary(out: dict) -> dict:
  """metrics.summary of SNR_MS, the one summary of tables, `evaluate` and README.

  Table 3's network: out['snr_ms'] is each segment's mean over the three extensions
  (evaluation.evaluate), so the std is over segments of that mean.
  """
  s = metrics.summary(out['snr_ms'])
  for m in beside():
    s[f'{m.name}_mean'] = metrics.summary(out[m.name])['mean']
  if 'snr_mag' in out:
    s['snr_mag_mean'] = metrics.summary(out['snr_mag'])['mean']
  s['tracks'] = len(set(np.asarray(out.get('track_id', [])).tolist()))
  n = len(np.asarray(out['snr_ms']))
  s['ms_per_gap'] = 1000 * float(np.sum(out['seconds'])) / n if 'seconds' in out and n else None
  s['n_fallback'] = out.get('n_fallback', 0)
  return s


def beside() -> tuple:
  """The registered segment metrics the tables give beside SNR_MS (their mean: SNR_TD, ...)."""
  return tuple(m for m in metric_registry.of_kind(metric_registry.SEGMENT) if m.name != 'snr_ms')


def fmt(x) -> str:
  return '—' if x is None or not np.isfinite(x) else f'{x:.1f}'


def write_csv(path: str, rows) -> None:
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=list(rows[0]))
  w.writeheader()
  w.writerows(rows)
  atomic.write_text(path, buf.getvalue())


def _head(method: str) -> str:
  return HEADS.get(method, method)


def markdown(table: int, results: Dict[Tuple, dict], methods: Tuple[str, ...], datasets: dict,
             split: str, checkpoints: Dict[str, Optional[str]], max_segments: int,
             phase_method: str, command: str) -> str:
  """Table `table` in Markdown: ours beside the paper's, then what the numbers cover."""
  gap_ms = TABLE_GAP[table]
  cols = [(k, m) for k in KINDS for m in methods]
  get = lambda k, m: results.get((table, k, m))
  cell = lambda key: lambda k, m: get(k, m)[key] if get(k, m) else None
  lines = [f'# Table {table}: SNR_MS (dB) of {gap_ms} ms gaps'
           + (' (64 ms network, gap extended 16 ms forward / 16 ms backward / 8+8 ms centred, averaged)'
              if table == 3 else ''), '',
           '| | ' + ' | '.join(f'{k} {_head(m)}' for k, m in cols) + ' |',
           '|---|' + '---|' * len(cols)]

  def row(label, value, show=fmt):
    lines.append(f'| {label} | ' + ' | '.join(show(value(k, m)) for k, m in cols) + ' |')

  count = lambda v: '—' if v is None else str(v)
  row('Mean (ours)', cell('mean'))
  row('Std (ours)', cell('std'))
  row('Mean (paper)', lambda k, m: PAPER.get((table, k, m), (None, None))[0])
  row('Std (paper)', lambda k, m: PAPER.get((table, k, m), (None, None))[1])
  row('Segments', cell('n'), count)
  row('Tracks', cell('tracks'), count)
  for m in beside():
    row(f'{m.label} mean', cell(f'{m.name}_mean'))
  row('Time per gap (ms)', cell('ms_per_gap'))
  lines += ['', '— = not computed (no model given, or no dataset; the paper has no Interp column).',
            'Network = the context encoder (the paper\'s "Mag" in Table 2, "ours" in Table 3). '
            'Janssen = Janssen et al. 1986, window-wise; Janssen gap-wise = Mokrý & Rajmic 2024 '
            '(docs/janssen.md; not in the paper). Time per gap: the method\'s wall time over the '
            'segments, with the run\'s worker processes.',
            'Interp = per-bin linear interpolation of the border context frames\' magnitudes + the '
            'same phase retrieval as the network: the no-training baseline the network must beat.',
            'Std is over segments (metrics.summary)' + ('; for the network, of each segment\'s mean over '
                                                        'the three extensions' if table == 3 else '')
            + '. ' + (f'At most {max_segments} segments per column, taken at a fixed stride over '
                      'the whole split.' if max_segments else 'All segments of the split.'), '']
  for k in KINDS:
    lines.append(f'- {k}: dataset `{datasets[k]}` split `{split}`, checkpoint '
                 f'`{checkpoints.get(k) or "none (LPC only)"}`')
  for (t, k, m), s in sorted(results.items()):
    if t == table and m == 'lpc':
      lines.append(f'- {k} LPC: {s["n_fallback"]} segment(s) used the degenerate-context fallback; '
                   f'{s["n_nonfinite"]} non-finite SNR(s) left out of mean/std')
    if t == table and 'snr_mag_mean' in s:
      lines.append(f'- {k} {m}: SNR of the magnitudes before phase retrieval '
                   f'{fmt(s["snr_mag_mean"])} dB'
                   + (' (on the 64 ms extended gap, mean of the three extensions)'
                      if table == 3 and m == 'network' else ''))
  lines += [f'- phase retrieval: {phase_method}', f'- command: `{command}`',
            f'- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC', '']
  return '\n'.join(lines)


def csv_rows(table: int, results: Dict[Tuple, dict], methods: Tuple[str, ...], datasets: dict,
             checkpoints: Dict[str, Optional[str]], command: str) -> list:
  """One CSV row per (dataset, method) column of the table."""
  rows = []
  for k in KINDS:
    for m in methods:
      s = results.get((table, k, m))
      rows.append({'table': table, 'gap_ms': TABLE_GAP[table], 'dataset': k, 'data_dir': datasets[k],
                   'method': m, 'snr_ms_mean': s['mean'] if s else '',
                   'snr_ms_std': s['std'] if s else '',
                   **{f'{m.name}_mean': s[f'{m.name}_mean'] if s else '' for m in beside()},
                   'segments': s['n'] if s else 0, 'tracks': s['tracks'] if s else 0,
                   'paper_mean': PAPER.get((table, k, m), ('', ''))[0],
                   'paper_std': PAPER.get((table, k, m), ('', ''))[1],
                   'ms_per_gap': s.get('ms_per_gap') if s else '',
                   'checkpoint': (checkpoints.get(k) or '') if m == 'network' else '',
                   'command': command})
  return rows
