"""Markdown and CSV of the long-gap Tables 1-3 beside the paper's (paper_tables.py); no flags
(experiments/longgap/tables.py runs the methods and calls these).

Cells that cannot be measured say why instead of a number: NOT_GIVEN where no network or
classifier was given for that dataset, NOT_IMPLEMENTED for the paper's methods we lack.
"""

import csv
import io

from audio_context_encoder.dsp import metrics as base_metrics
from audio_context_encoder.evaluation import metric_registry
from audio_context_encoder.longgap import paper_tables
from audio_context_encoder.evaluation import longgap_scoring as scoring

NOT_GIVEN = 'none given for this stand-in'
NOT_IMPLEMENTED = 'not implemented here'
DATASETS = {'sc09': 'SC09-like stand-in', 'esc50': 'ESC-50-like stand-in'}
NETWORK_NAMES = {'ours_spec gl': 'Ours (Spec.) + Griffin-Lim (paper)',
                 'ours_spec pghi+fgla': 'Ours (Spec.) + masked PGHI/FGLA',
                 'ours_wave': 'Ours (Wave.)',
                 'spec_interp': 'Interpolated magnitudes + masked PGHI/FGLA (not in the paper)',
                 'ours_spec_interp pghi+fgla': 'Ours (Spec.) from the interpolation + masked '
                                               'PGHI/FGLA (not in the paper)'}
NAMES = {**scoring.NAMES, **NETWORK_NAMES}
# the paper's rows we do not run: (row key of paper_tables.TABLE2, why)
PAPER_ONLY = (('wavernn', NOT_IMPLEMENTED), ('waveglow', NOT_IMPLEMENTED), ('gmcnn', NOT_IMPLEMENTED))


def table2_columns() -> tuple:
  """Table 2's score columns: the registered clip metrics (metric_registry), the perceptual
  distances last."""
  labels = [m.label for m in metric_registry.of_kind(metric_registry.CLIP)]
  return tuple(c for c in labels if c not in scoring.PD) + tuple(c for c in labels if c in scoring.PD)

PAPER_COLUMNS = ('paper ML1', 'paper SSIM', 'paper PD wave', 'paper PD spec', 'paper speed (SC09 clips/min)')


def csv_text(header, rows) -> str:
  out = io.StringIO()
  writer = csv.writer(out, lineterminator='\n')
  writer.writerow(header)
  writer.writerows(rows)
  return out.getvalue()


def md_table(header, rows, right_from: int = 1) -> list:
  return (['| ' + ' | '.join(header) + ' |',
           '|' + '---|' * right_from + '---:|' * (len(header) - right_from)]
          + ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows])


# ----- Table 1 -----

def table1(records: dict, data_dirs: dict):
  """(markdown, csv) of our classifiers ({dataset: {kind: trainer record}}) beside all of the
  paper's rows; data_dirs: {dataset: its folder}."""
  from audio_context_encoder.longgap import classifier_training as trainer
  header = ('dataset', 'source', 'type', 'model', 'pretrained', 'parameters', 'test accuracy')
  rows = []
  for d, mine in records.items():
    rows += [(DATASETS[d], 'ours', kind, 'small CNN (longgap/classifiers.py)', 'no',
              f'{mine[kind]["params"]:,}', f'{mine[kind]["test_accuracy"]:.3f}') if kind in mine
             else (DATASETS[d], 'ours', kind, '', '', '', NOT_GIVEN) for kind in trainer.KINDS]
  rows += [(d, 'paper', k, m, 'yes' if pre else 'no', p, f'{a:.3f}')
           for d, k, m, pre, p, a in paper_tables.TABLE1]
  md = ['## Table 1: classifier accuracy (perceptual distances, eq. 3)', '',
        *(trainer.table(mine, data_dirs[d], d) for d, mine in records.items() if mine),
        'The paper\'s Table 1 (real SC09 and ESC-50) and ours:', '',
        *md_table(header, rows, right_from=5), '']
  return '\n'.join(md), csv_text(header, rows)


# ----- Table 2 -----

def cell(scores, column):
  return scoring.fmt(scores[column]) if column in scores else ''


def table2(results: dict, networks: dict, paper_rows: dict):
  """(markdown, csv). results: {dataset: (Selection, {row: (scores, seconds, clips)})}; the
  perceptual-distance columns absent from a dataset's scores read NOT_GIVEN (no classifier);
  networks: {row: None (ran) or why it could not run, per dataset: {dataset: reason}};
  paper_rows: {row: paper_tables.TABLE2 key} for the rows the paper reports."""
  md, rows_csv = ['## Table 2: every method on both stand-ins', ''], []
  columns = table2_columns()
  arrow = lambda c: metric_registry.by_label(metric_registry.CLIP)[c].arrow
  header = ('method', 'clips', *(f'{c} {arrow(c)}' for c in columns),
            'clips/s', *PAPER_COLUMNS)
  csv_header = ('dataset', 'method', 'clips', *(f'{c} {s}' for c in columns for s in ('mean', 'std')),
                'clips/s', *PAPER_COLUMNS)
  for dataset, (sel, rows) in results.items():
    md_rows = []

    def paper(key):
      k = paper_rows.get(key, key.split()[0])
      return (*paper_tables.table2_paper_row(k, dataset), paper_tables.table2_speed(k))

    for key, (sc, secs, n) in rows.items():
      cells = [cell(sc, c) if c in sc or c not in scoring.PD else NOT_GIVEN for c in columns]
      md_rows.append((NAMES[key], n, *cells, f'{n / secs:.3g}', *paper(key)))
      stats = [base_metrics.summary(sc[c]) if c in sc else None for c in columns]
      rows_csv.append((dataset, NAMES[key], n,
                       *(f'{s[k]:.6g}' if s else NOT_GIVEN for s in stats for k in ('mean', 'std')),
                       f'{n / secs:.4g}', *paper(key)))
    for key, reasons in networks.items():
      if reasons.get(dataset):
        why = reasons[dataset]
        md_rows.append((NAMES[key], 0, *(why,) * len(columns), '', *paper(key)))
        rows_csv.append((dataset, NAMES[key], 0, *(why,) * (2 * len(columns)), '', *paper(key)))
    for key, why in PAPER_ONLY:
      name = paper_tables.TABLE2_NAMES[key]
      md_rows.append((name, 0, *(why,) * len(columns), '', *paper(key)))
      rows_csv.append((dataset, name, 0, *(why,) * (2 * len(columns)), '', *paper(key)))
    md += [f'### {DATASETS[dataset]} ({dataset} protocol)', '',
           f'Test split: {sel.n_total} clips, {sel.n_quiet} left out (silent gap); fixed mask '
           f'{sel.protocol.test_mask[0]}-{sel.protocol.test_mask[1]} s. Mean ± std over clips.', '',
           *md_table(header, md_rows, right_from=1), '']
  md += ['Deep Prior runs on the first clips only (its clips column); the masked input on those same '
         'clips is the row beside it. The paper\'s "Ours" values are its (L1) rows, or its '
         '(L1+SpecP) / (L1+WaveP) rows when the shipped network was trained with a perceptual loss; '
         'the paper used Griffin-Lim only. The perceptual distances use our classifiers of each '
         'stand-in (Table 1), as the paper\'s use classifiers of each dataset. Rows marked "not '
         'in the paper": the baseline-start deviation (docs/longgap_models.md, "Starting from a '
         'baseline") and its start, the same network untrained. ViSQOL: ViSQOL v3\'s MOS-LQO (1-5, not '
         'in the paper; docs/perceptual.md), speech mode at 16 kHz on the SC09-like clips, audio '
         'mode at 48 kHz on the ESC-50-like ones. clips/s: the method\'s wall time on 2 shared '
         'CPU cores, without the scoring; the paper\'s speed is on a V100 GPU, and its footnote '
         'says per minute while its text says per second.', '']
  return '\n'.join(md), csv_text(csv_header, rows_csv)


# ----- Table 3 -----

def table3(rows):
  """(markdown, csv). rows: dicts with network, rf, rf_s, mask_s, field, unit, covers, clips,
  ML1, spectral SNR (dB), masked ML1 (arrays per clip for the last three)."""
  header = ('network', 'receptive field (time)', 'mask (s)', 'masked field', 'RF ≥ 2·field+1',
            'clips', 'ML1 ↓', 'spectral SNR (dB) ↑', 'masked input ML1')
  md_rows, csv_rows = [], []
  for r in rows:
    md_rows.append((r['network'], f'{r["rf"]} {r["unit"]} ({r["rf_s"]:.3f} s)', f'{r["mask_s"]:g}',
                    f'{r["field"]} {r["unit"]}', 'yes' if r['covers'] else 'no', r['clips'],
                    scoring.fmt(r['ML1']), scoring.fmt(r['spectral SNR (dB)']), scoring.fmt(r['masked ML1'])))
    csv_rows.append((r['network'], r['rf'], r['unit'], f'{r["rf_s"]:.4f}', r['mask_s'], r['field'],
                     int(r['covers']), r['clips'], *(f'{base_metrics.summary(r[k])["mean"]:.6g}' for k in
                                                     ('ML1', 'spectral SNR (dB)', 'masked ML1'))))
  paper = [(f'{t:g}', f, rf, f'{l1:.4f}', f'{p:.4f}', '✓' if ok else '×')
           for t, f, rf, l1, p, ok in paper_tables.TABLE3]
  md = ['## Table 3: receptive field and mask length', '',
        'Ours: the shipped networks only (no retrained ablation variants: CPU budget), each on '
        'centred masks of several lengths on the SC09-like stand-in test clips (trained with '
        '0.2 s masks). RF ≥ 2·field+1: every gap position sees known context on both sides '
        '(models.gap_reach). The masked input\'s spectral SNR is 0 dB by definition; the spectral SNR is '
        'undefined for gaps shorter than the metric STFT window (docs/longgap.md).', '',
        *md_table(header, md_rows, right_from=1), '',
        'The paper\'s Table 3 (ESC-50, its spectrogram network retrained per row for 50 epochs; '
        'validation set; fields along time in its frame units; it varied the depth, hence the '
        'receptive field, at 0.1 s masks, then the mask length at receptive field 77):', '',
        *md_table(('mask (s)', 'masked field', 'receptive field', 'L1', 'SpecP error', 'success'),
                  paper), '']
  csv_header = ('network', 'receptive field', 'unit', 'receptive field s', 'mask s', 'masked field',
                'rf covers gap', 'clips', 'ML1 mean', 'spectral SNR dB mean', 'masked ML1 mean')
  return '\n'.join(md), csv_text(csv_header, csv_rows)
