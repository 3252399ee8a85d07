"""Looking for one method that wins on every measure (issue 21): hybrids of the network and
gap-wise Janssen, against lpc, interp, janssen and janssen-gapwise, on the music stand-in's
valid and test splits at 64 and 48 ms (SNR_MS, SNR_TD on the same evenly spaced segments;
ViSQOL on the same excerpts). Every variant tried is reported, the failures too.

  python -m experiments.dominance --segments=1000 --excerpts=16 --out=results/dominance.md
"""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.common import compute
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import perceptual  # noqa: E402
from audio_context_encoder.dsp import dgt
from audio_context_encoder.dsp import phase

FLAGS = flags.FLAGS
flags.DEFINE_string('data', 'data/demo-music', 'music dataset folder')
flags.DEFINE_string('model', None, 'music network (default: the shipped one)')
flags.DEFINE_integer('segments', 1000, 'segments per split and gap length')
flags.DEFINE_integer('excerpts', 16, 'ViSQOL excerpts per split')
flags.DEFINE_list('splits', ['valid', 'test'], 'splits to measure')
flags.DEFINE_list('variants', [], 'variants to run (default: all)')
flags.DEFINE_string('out', 'results/dominance.md', 'the report')


class Hybrid(methods.Method):
  """The network's gap magnitudes (a blend `weight` of them with an AR fill's), phase started
  from the AR fill (gap-wise Janssen) instead of PGHI, then `iterations` of masked FGLA."""

  trained = True

  def __init__(self, name, network, ar, weight=1.0, iterations=100):
    super().__init__(network.sig)
    self.name, self.network, self.ar = name, network, ar
    self.weight, self.iterations = weight, iterations
    self.cfg, self.zone, self.model_path = network.cfg, network.zone, network.model_path

  def fills(self, sig):
    return sig == self.sig  # the network's layout only

  def settings(self):
    return {**self.network.settings(), **self.ar.settings(), 'weight': self.weight,
            'iterations': self.iterations}

  def restore(self, segments, sig):
    segments = np.atleast_2d(np.asarray(segments))
    filled = self.ar.restore(segments, sig).restored
    start, end = sig.gap_dgt_columns
    from audio_context_encoder.dsp import dgt as dgt_lib
    ar_mags = dgt_lib.magnitude(np.asarray(filled, np.float64), sig, np.arange(start, end))
    net = np.abs(np.asarray(self.network.predict(segments)))
    net = net.reshape(ar_mags.shape)
    mags = self.weight * net + (1 - self.weight) * ar_mags
    out = phase.reconstruct_with_phase_of(segments, mags, filled, sig, self.cfg.reconstruction,
                                          self.iterations)
    return methods.Restored(out.astype(segments.dtype, copy=False), magnitudes=mags)


class BandBlend(methods.Method):
  """Below `cutoff` Hz one method's fill, above it another's: their gap DGT columns joined per
  frequency bin (the known columns are the same for both), synthesised with the dual window."""

  trained = True

  def __init__(self, name, low, high, cutoff):
    super().__init__(high.sig)
    self.name, self.low, self.high, self.cutoff = name, low, high, cutoff
    self.cfg, self.zone, self.model_path = high.cfg, high.zone, getattr(high, 'model_path', None)

  def fills(self, sig):
    return sig == self.sig  # the network's layout only

  def settings(self):
    return {'low': self.low.settings(), 'high': self.high.settings(), 'cutoff': self.cutoff}

  def restore(self, segments, sig):
    segments = np.atleast_2d(np.asarray(segments))
    lo = np.asarray(self.low.restore(segments, sig).restored, np.float64)
    hi = np.asarray(self.high.restore(segments, sig).restored, np.float64)
    start, end = sig.gap_dgt_columns
    c_lo, c_hi = dgt.dgt(lo, sig), dgt.dgt(hi, sig)
    bins = np.arange(sig.bins) * sig.sample_rate / sig.M < self.cutoff
    c = c_hi.copy()
    c[:, start:end][:, :, bins] = c_lo[:, start:end][:, :, bins]
    out = phase.synthesize_gap(segments, c[:, start:end], sig)
    return methods.Restored(out.astype(segments.dtype, copy=False))


def variants(network, ar):
  hybrid = Hybrid('hybrid-100', network, ar)
  return {'net-mag + janssen-phase + 100 FGLA': hybrid,
          'net-mag + janssen-phase, no FGLA': Hybrid('hybrid-0', network, ar, iterations=0),
          'net-mag + janssen-phase + 10 FGLA': Hybrid('hybrid-10', network, ar, iterations=10),
          'mean(net, janssen) mag + janssen-phase + 100 FGLA': Hybrid('hybrid-mix', network, ar, 0.5),
          'mean(net, janssen) mag + janssen-phase, no FGLA': Hybrid('hybrid-mix-0', network, ar, 0.5, 0),
          '0.25 net + 0.75 janssen mag + janssen-phase, no FGLA': Hybrid('hybrid-w25-0', network, ar,
                                                                         0.25, 0),
          'janssen below 1 kHz, net-mag + janssen-phase + 100 FGLA above':
              BandBlend('band-1k', ar, hybrid, 1000.0),
          'janssen below 4 kHz, net-mag + janssen-phase + 100 FGLA above':
              BandBlend('band-4k', ar, hybrid, 4000.0)}


def main(argv):
  del argv
  compute.set_workers(None)
  network = methods.get('network', model=FLAGS.model)
  ar = methods.get('janssen-gapwise')
  baselines = {n: methods.get(n) for n in ('lpc', 'interp', 'janssen', 'janssen-gapwise')}
  baselines['network'] = network
  tried = variants(network, ar)
  if FLAGS.variants:
    tried = {k: v for k, v in tried.items() if v.name in FLAGS.variants}
  everyone = {**baselines, **{v.name: v for v in tried.values()}}
  scores = {}
  for split in FLAGS.splits:
    for gap_ms in (64, 48):
      for name, method in everyone.items():
        out = evaluation.evaluate_dataset(FLAGS.data, split, method, gap_ms,
                                          max_segments=FLAGS.segments, batch_size=128,
                                          progress=False)
        scores[(split, gap_ms, name)] = (metrics.summary(out['snr_ms'])['mean'],
                                         metrics.summary(out['snr_td'])['mean'])
        print(split, gap_ms, name, *(f'{v:.2f}' for v in scores[(split, gap_ms, name)]), flush=True)
    shown = excerpts.dataset_excerpts(FLAGS.data, split, FLAGS.excerpts)
    record = excerpts.run(shown, everyone, perceptual.Visqol('audio'), title=split, progress=False)
    for name in everyone:
      scores[(split, 'visqol', name)] = perceptual.summary(excerpts.scores_of(record, name))['mean']
      print(split, 'visqol', name, f'{scores[(split, "visqol", name)]:.3f}', flush=True)
  report(scores, everyone, tried, baselines)
  return 0


def report(scores, everyone, tried, baselines):
  lines = ['# One method on every measure? (issue 21)', '',
           f'`python -m experiments.dominance {" ".join(sys.argv[1:])}`: {FLAGS.segments} evenly '
           f'spaced segments per split and gap length (SNR_MS, SNR_TD, dB), {FLAGS.excerpts} '
           'excerpts per split (ViSQOL, docs/perceptual.md); every method on the same ones.', '']
  cols = [(s, g, k) for s in FLAGS.splits for g in (64, 48) for k in ('SNR_MS', 'SNR_TD')]
  cols += [(s, 'visqol', 'ViSQOL') for s in FLAGS.splits]
  lines.append('| method | ' + ' | '.join(f'{s} {g if g != "visqol" else ""} {k}'.replace('  ', ' ')
                                           for s, g, k in cols) + ' | wins all? |')
  lines.append('|---|' + '---|' * (len(cols) + 1))
  names = {v.name: label for label, v in tried.items()}
  for name in everyone:
    cells, wins = [], True
    for s, g, k in cols:
      v = scores[(s, g, name)] if g == 'visqol' else scores[(s, g, name)][0 if k == 'SNR_MS' else 1]
      best = max((scores[(s, g, b)] if g == 'visqol' else scores[(s, g, b)][0 if k == 'SNR_MS' else 1])
                 for b in baselines if b != 'network')
      cells.append(f'{v:.3f}' if g == 'visqol' else f'{v:.2f}')
      wins &= v > best
    label = names.get(name, name)
    lines.append(f'| {label} | ' + ' | '.join(cells) + f' | {"yes" if wins else "no"} |')
  lines += ['', '"wins all?": above lpc, interp, janssen and janssen-gapwise in every column.', '']
  atomic.write_text(FLAGS.out, '\n'.join(lines))
  print('\n'.join(lines))


if __name__ == '__main__':
  app.run(main)
