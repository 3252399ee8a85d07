"""Long-gap baselines on a built dataset's test split, with the long-gap metrics.

  python -m experiments.longgap.score --dataset_dir=data/longgap-sc09-standin --max_clips=40

Writes results/longgap_<protocol>_standin.md (or --out_file): per method the mean and std over
clips of masked L1 (eq. 2), spectrogram SSIM, SNR in the gap, spectral SNR, and clips per
second, beside the paper's Table 2 where its text is legible. The fixed test mask of the
protocol (SC09 0.4-0.6 s, ESC-50 3.0-3.4 s); clips whose gap RMS is below --min_gap_rms are
left out (silent gaps: SNRs undefined), as the first paper's segment filter. Deep Prior is
costly: it runs on the first --deep_prior_clips of the evaluated clips with
--deep_prior_iterations (paper: 4001), once per clip, both phase options from one fit.
"""

import sys

from absl import app, flags

from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.common import atomic
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import paper_tables
from audio_context_encoder.evaluation import longgap_scoring as scoring

flags.DEFINE_string('dataset_dir', None, 'A folder built by tfrecords_tools.longgap_build.')
flags.DEFINE_string('eval_split', 'test', 'Split to evaluate.')
flags.DEFINE_integer('max_clips', 40, 'Clips evaluated, spread over the split (0: all).')
flags.DEFINE_float('min_gap_rms', 1e-4, 'Leave out clips whose gap is quieter than this RMS.')
flags.DEFINE_integer('deep_prior_clips', 4, 'Clips Deep Prior runs on (0: skip it).')
flags.DEFINE_integer('deep_prior_iterations', 300, 'Deep Prior fitting steps (paper 4001).')
flags.DEFINE_integer('lpc_order', 1000, 'Burg order cap of the LPC baseline.')
flags.DEFINE_string('classifiers_dir', None, 'Folder of experiments/longgap/classifiers.py '
                    '(wave.keras, spec.keras): adds the perceptual distances (eq. 3) as columns.')
flags.DEFINE_string('out_file', None, 'Markdown output (default results/longgap_<protocol>_standin.md).')
FLAGS = flags.FLAGS  # names unused by the other entry points: tests import several at once
NAMES, PD, fmt = scoring.NAMES, scoring.PD, scoring.fmt


def table(rows, settings, n_total, n_quiet, command) -> str:
  proto = settings['protocol']
  pd = [c for c in PD if rows and c in next(iter(rows.values()))[0]]
  lines = [f'# Long-gap baselines on {settings["source"]} ({proto} protocol), measured', '',
           f'Command: `{command}`', '',
           f'Test split: {n_total} clips, {n_quiet} left out (gap RMS < {FLAGS.min_gap_rms:g}); '
           f'fixed mask {config.get(proto).test_mask[0]}-{config.get(proto).test_mask[1]} s. '
           'Mean ± std over clips (docs/longgap.md: metrics and their settings).', '',
           '| method | clips | ML1 ↓ | SSIM ↑ | SNR gap (dB) ↑ | spectral SNR (dB) ↑ | '
           + ''.join(f'{c} ↓ | ' for c in pd) + 'clips/s | paper ML1 | paper SSIM |',
           '|---|' + '---:|' * (8 + len(pd))]
  for name, (sc, secs, n) in rows.items():
    p_ml1, p_ssim = (paper_tables.table2_paper_row(name.split()[0], 'sc09')[:2] if proto == 'sc09'
                     else ('', ''))
    lines.append(f'| {NAMES[name]} | {n} | {fmt(sc["ML1"])} | {fmt(sc["SSIM"])} | '
                 f'{fmt(sc["SNR gap (dB)"])} | {fmt(sc["spectral SNR (dB)"])} | '
                 + ''.join(f'{fmt(sc[c])} | ' for c in pd) + f'{n / secs:.3g} | '
                 f'{p_ml1} | {p_ssim} |')
  lines += ['', 'Deep Prior runs on the first clips only (the clips column); compare it with the '
            'masked input on those same clips.', 'Paper columns: Chang et al. 2019, Table 2 (SC09 only; real SC09, their SSIM '
            'settings unknown, so compare orderings, not values). clips/s: wall time on this '
            'machine (2 shared CPU cores), one process.', '']
  return '\n'.join(lines)


def main(argv):
  del argv
  if not FLAGS.dataset_dir:
    print('error: give --dataset_dir (a folder built by make longgap-demo-data)', file=sys.stderr)
    return 2
  try:
    sel = scoring.select(FLAGS.dataset_dir, FLAGS.eval_split, FLAGS.max_clips, FLAGS.min_gap_rms)
  except DatasetError as e:
    print(f'error: {e}', file=sys.stderr)
    return 1
  proto = sel.protocol
  rows = scoring.evaluate(sel.clips, sel.mask, proto.sample_rate, min(FLAGS.deep_prior_clips, len(sel.clips)),
                          FLAGS.deep_prior_iterations, FLAGS.lpc_order,
                          scoring.classifier_features(FLAGS.classifiers_dir))
  command = 'python -m experiments.longgap.score ' + ' '.join(
      f'--{k}={getattr(FLAGS, k)}' for k in ('dataset_dir', 'eval_split', 'max_clips', 'min_gap_rms',
                                              'deep_prior_clips', 'deep_prior_iterations', 'lpc_order')) + (
      f' --classifiers_dir={FLAGS.classifiers_dir}' if FLAGS.classifiers_dir else '')
  out = FLAGS.out_file or f'results/longgap_{proto.name}_standin.md'
  text = table(rows, sel.settings, sel.n_total, sel.n_quiet, command)
  atomic.write_text(out, text)
  print(text)
  return 0


if __name__ == '__main__':
  app.run(main)
