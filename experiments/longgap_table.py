"""Long-gap baselines on a built dataset's test split, with the long-gap metrics.

  python -m experiments.longgap_table --dataset_dir=data/longgap-sc09-standin --max_clips=40

Writes results/longgap_<protocol>_standin.md (or --out_file): per method the mean and std over
clips of masked L1 (eq. 2), spectrogram SSIM, SNR in the gap, spectral SNR, and clips per
second, beside the paper's Table 2 where its text is legible. The fixed test mask of the
protocol (SC09 0.4-0.6 s, ESC-50 3.0-3.4 s); clips whose gap RMS is below --min_gap_rms are
left out (silent gaps: SNRs undefined), as the first paper's segment filter. Deep Prior is
costly: it runs on the first --deep_prior_clips of the evaluated clips with
--deep_prior_iterations (paper: 4001), once per clip, both phase options from one fit.
"""

import sys
import time

import numpy as np
from absl import app, flags

from audio_context_encoder import atomic
from audio_context_encoder import metrics as base_metrics
from audio_context_encoder.longgap import baselines, config, deep_prior, metrics, phase_options
from tfrecords_tools import longgap_dataset

flags.DEFINE_string('dataset_dir', None, 'A folder built by tfrecords_tools.longgap_build.')
flags.DEFINE_string('eval_split', 'test', 'Split to evaluate.')
flags.DEFINE_integer('max_clips', 40, 'Clips evaluated, spread over the split (0: all).')
flags.DEFINE_float('min_gap_rms', 1e-4, 'Leave out clips whose gap is quieter than this RMS.')
flags.DEFINE_integer('deep_prior_clips', 4, 'Clips Deep Prior runs on (0: skip it).')
flags.DEFINE_integer('deep_prior_iterations', 300, 'Deep Prior fitting steps (paper 4001).')
flags.DEFINE_integer('lpc_order', 1000, 'Burg order cap of the LPC baseline.')
flags.DEFINE_string('classifiers_dir', None, 'Folder of experiments/longgap_classifiers.py '
                    '(wave.keras, spec.keras): adds the perceptual distances (eq. 3) as columns.')
flags.DEFINE_string('out_file', None, 'Markdown output (default results/longgap_<protocol>_standin.md).')
FLAGS = flags.FLAGS  # names unused by the other entry points: tests import several at once

# Chang et al. 2019, Table 2, SC09 columns (the ESC-50 columns of our copy of the text are
# garbled and not quoted): ML1, SSIM; None = "x" (failed).
PAPER_SC09 = {'masked': (0.011125, 0.675040), 'griffinlim_gt': (0.021293, 0.808092),
              'simgraph': None, 'deep_prior': (0.010940, 0.719634)}
NAMES = {'masked': 'Masked input', 'griffinlim_gt': 'Griffin-Lim GT (oracle)',
         'lpc': 'LPC (Burg, both sides)', 'simgraph': 'Similarity graph (simplified)',
         'masked dp': 'Masked input, on the Deep Prior clips', 'deep_prior gl': 'Deep Prior + Griffin-Lim', 'deep_prior pghi+fgla': 'Deep Prior + masked PGHI/FGLA'}


PD = ('PD wave', 'PD spec')  # perceptual distance on the waveform / spectrogram classifier


def classifier_features(folder) -> dict:
  """{'PD wave': Psi, 'PD spec': Psi} from the saved classifiers ({} without a folder)."""
  if not folder:
    return {}
  from experiments import longgap_classifier_trainer as trainer
  return {name: trainer.saved_features(folder, kind) for name, kind in zip(PD, ('wave', 'spec'))}


def score(restored, clips, mask, rate, psis=None) -> dict:
  extra = {name: metrics.perceptual_distance(psi, restored, clips) for name, psi in (psis or {}).items()}
  return {**extra, 'ML1': metrics.masked_l1(restored, clips, mask),
          'SSIM': metrics.spectrogram_ssim(restored, clips, rate),
          'SNR gap (dB)': metrics.snr_gap(restored, clips, mask),
          'spectral SNR (dB)': metrics.spectral_snr(restored, clips, mask, rate)}


def evaluate(clips, mask, rate, dp_clips, dp_iterations, lpc_order, psis=None):
  """{row name: (scores, seconds, clips)}; psis: perceptual-distance features by column."""
  rows = {}
  for method in (baselines.MaskedInput(), baselines.GriffinLimGT(), baselines.LongLPC(lpc_order),
                 baselines.SimilarityGraph()):
    t0 = time.perf_counter()
    out = method.fill(clips, mask)
    rows[method.name] = (score(out, clips, mask, rate, psis), time.perf_counter() - t0, len(clips))
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
      rows[f'deep_prior {p}'] = (score(outs[p], sub, sub_mask, rate, psis),
                                 sum(dp.fit_seconds) + phase_s[p], len(sub))
    t0 = time.perf_counter()  # the reference on the same clips: Deep Prior's rows cover fewer
    out = baselines.MaskedInput().fill(sub, sub_mask)
    rows['masked dp'] = (score(out, sub, sub_mask, rate, psis), time.perf_counter() - t0, len(sub))
  return rows


def fmt(values) -> str:
  s = base_metrics.summary(values)
  extra = f' ({s["n_nonfinite"]} undefined)' if s['n_nonfinite'] else ''
  return f'{s["mean"]:.4f} ± {s["std"]:.4f}{extra}'


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
    paper = PAPER_SC09.get(name.split()[0], 'n/a') if proto == 'sc09' else 'n/a'
    p_ml1, p_ssim = (('x', 'x') if paper is None else ('', '') if paper == 'n/a'
                     else (f'{paper[0]:.4f}', f'{paper[1]:.4f}'))
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
    settings = longgap_dataset.read_settings(FLAGS.dataset_dir)
    clips, _ = longgap_dataset.read_split(FLAGS.dataset_dir, FLAGS.eval_split)
  except longgap_dataset.DatasetError as e:
    print(f'error: {e}', file=sys.stderr)
    return 1
  proto = config.get(settings['protocol'])
  clips = clips.astype(np.float64)
  mask = proto.test_mask_array(len(clips))
  s, e = proto.test_mask_samples()
  loud = np.sqrt(np.mean(clips[:, s:e] ** 2, axis=1)) >= FLAGS.min_gap_rms
  eligible = clips[loud]
  idx = base_metrics.spread_indices(len(eligible), FLAGS.max_clips)
  sel, sel_mask = eligible[idx], mask[:len(idx)]
  rows = evaluate(sel, sel_mask, proto.sample_rate, min(FLAGS.deep_prior_clips, len(sel)),
                  FLAGS.deep_prior_iterations, FLAGS.lpc_order, classifier_features(FLAGS.classifiers_dir))
  command = 'python -m experiments.longgap_table ' + ' '.join(
      f'--{k}={getattr(FLAGS, k)}' for k in ('dataset_dir', 'eval_split', 'max_clips', 'min_gap_rms',
                                              'deep_prior_clips', 'deep_prior_iterations', 'lpc_order')) + (
      f' --classifiers_dir={FLAGS.classifiers_dir}' if FLAGS.classifiers_dir else '')
  out = FLAGS.out_file or f'results/longgap_{proto.name}_standin.md'
  text = table(rows, settings, len(clips), int((~loud).sum()), command)
  atomic.write_text(out, text)
  print(text)
  return 0


if __name__ == '__main__':
  app.run(main)
