"""Chang et al. 2019's Tables 1-3 and Fig. 3 on the stand-ins, beside the paper's numbers.

  make longgap-tables   # < 30 min on 2 CPU cores with the shipped small weights

Table 1: the shipped classifiers' accuracies (their JSON). Table 2: every method on both
stand-ins' test splits, the shipped networks where they were trained (SC09-like only).
Table 3: the shipped networks on centred masks of --lgt_mask_seconds beside their receptive
fields. Fig. 3: dB spectrograms of every method on one SC09-like test clip. Writes
<out_dir>/longgap_tables_<tag>.md, longgap_table{1,2,3}_<tag>.csv and
longgap_figure3_<tag>.png, each atomically. Costly parts are capped by flags (recorded in the
output's command line): clips per dataset, Deep Prior clips and iterations.
"""

import copy
import os
import time

import numpy as np
from absl import app, flags

from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.common import atomic
from audio_context_encoder.common import entry
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder.evaluation import listening
from audio_context_encoder.evaluation import plots
from audio_context_encoder.dsp import metrics as base_metrics
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import metrics
from audio_context_encoder.longgap import models
from audio_context_encoder.evaluation import longgap_report as report
from audio_context_encoder.evaluation import longgap_scoring as scoring

flags.DEFINE_string('lgt_sc09_data', 'data/longgap-sc09-standin', 'The SC09-like built folder.')
flags.DEFINE_string('lgt_esc50_data', 'data/longgap-esc50-standin', 'The ESC-50-like built folder.')
# The trained files of each stand-in (each + its .json): flag, default, what it is. An empty
# value leaves the row out with report.NOT_GIVEN; a given file must exist.
MODEL_FLAGS = {
    'sc09': {'spec': 'lgt_spec_model', 'wave': 'lgt_wave_model',
             'spec_interp': 'lgt_spec_interp_model',
             'classifier wave': 'lgt_classifier_wave', 'classifier spec': 'lgt_classifier_spec'},
    'esc50': {'spec': 'lgt_esc50_spec_model', 'wave': 'lgt_esc50_wave_model',
              'spec_interp': 'lgt_esc50_spec_interp_model',
              'classifier wave': 'lgt_esc50_classifier_wave',
              'classifier spec': 'lgt_esc50_classifier_spec'}}
WHAT = {'spec': 'spectrogram network', 'wave': 'waveform network',
        'spec_interp': 'baseline-start spectrogram network (not in the paper)',
        'classifier wave': 'waveform classifier (Table 1, PD wave)',
        'classifier spec': 'spectrogram classifier (Table 1, PD spec)'}
for _dataset, _names in MODEL_FLAGS.items():
  for _what, _flag in _names.items():
    _file = ('longgap-spec-interp' if _what == 'spec_interp' else
             f'longgap-{_what.replace(" ", "-")}')
    flags.DEFINE_string(_flag, f'models/{_file}-{_dataset}.keras',
                        f'The {report.DATASETS[_dataset]}\'s {WHAT[_what]} (+ .json); empty: none.')
flags.DEFINE_integer('lgt_sc09_clips', 40, 'SC09-like test clips per method (0: all).')
flags.DEFINE_integer('lgt_esc50_clips', 20, 'ESC-50-like test clips per method (0: all).')
flags.DEFINE_integer('lgt_dp_sc09_clips', 4, 'Deep Prior clips on the SC09-like stand-in.')
flags.DEFINE_integer('lgt_dp_esc50_clips', 2, 'Deep Prior clips on the ESC-50-like stand-in.')
flags.DEFINE_integer('lgt_dp_iterations', 300, 'Deep Prior fitting steps (paper 4001).')
flags.DEFINE_integer('lgt_lpc_order', 1000, 'Burg order cap of the LPC baseline.')
flags.DEFINE_integer('lgt_gl_iterations', 100, 'Phase retrieval iterations of the spectrogram network.')
flags.DEFINE_list('lgt_mask_seconds', ['0.1', '0.2', '0.3', '0.4', '0.5'], 'Table 3 mask lengths.')
flags.DEFINE_integer('lgt_ablation_clips', 20, 'SC09-like test clips per Table 3 row.')
flags.DEFINE_float('lgt_min_gap_rms', 1e-4, 'Leave out clips whose test gap is quieter.')
flags.DEFINE_string('lgt_out_dir', 'results', 'Folder of the outputs.')
flags.DEFINE_string('lgt_tag', 'standin', 'Suffix of the output names.')
FLAGS = flags.FLAGS  # lgt_ names: no other entry point the tests import uses them

# Seconds measured in a full run on 2 cores shared with two niced trainings (2026-11-30), for the
# printed estimate only: per clip of Table 2 (every method but Deep Prior), per Deep Prior
# iteration and clip, per clip and mask length of Table 3.
PER_CLIP_S = {'sc09': 2.4, 'esc50': 11.4}
DP_PER_ITERATION_S = {'sc09': 0.24, 'esc50': 1.6}
ABLATION_PER_CLIP_S = 1.0


class Progress:
  """Prints elapsed minutes with each step (the estimate first)."""

  def __init__(self):
    self.t0 = time.monotonic()

  def __call__(self, what: str):
    print(f'[{(time.monotonic() - self.t0) / 60:5.1f} min] {what}', flush=True)

  @property
  def seconds(self) -> float:
    return time.monotonic() - self.t0


def estimate_s(n_sc09: int, n_esc50: int, n_ablation: int) -> float:
  dp = FLAGS.lgt_dp_iterations * (FLAGS.lgt_dp_sc09_clips * DP_PER_ITERATION_S['sc09']
                                  + FLAGS.lgt_dp_esc50_clips * DP_PER_ITERATION_S['esc50'])
  return (n_sc09 * PER_CLIP_S['sc09'] + n_esc50 * PER_CLIP_S['esc50'] + dp
          + n_ablation * len(FLAGS.lgt_mask_seconds) * ABLATION_PER_CLIP_S + 30)


def model_path(dataset: str, what: str):
  """The file given for a stand-in's network or classifier, or None when its flag is empty."""
  return getattr(FLAGS, MODEL_FLAGS[dataset][what]) or None


def networks(datasets):
  """({row: {dataset: method}}, {row: {dataset: why not}}, {row: paper_tables.TABLE2 key}) of
  the trained networks given for each stand-in (a network trained on another protocol is
  refused), and the baseline-start network's own start (baselines.SpectrogramInterpolation)."""
  from audio_context_encoder.longgap import baselines, trained
  nets, why, records = {}, {}, {}
  rows = {'spec': ('ours_spec gl', 'ours_spec pghi+fgla'), 'wave': ('ours_wave',),
          'spec_interp': ('ours_spec_interp pghi+fgla',)}
  for d in datasets:
    for what, keys in rows.items():
      path = model_path(d, what)
      for key in keys:
        why.setdefault(key, {})[d] = None if path else report.NOT_GIVEN
      if not path:
        continue
      net = trained.TrainedNetwork(path, 'pghi+fgla' if what == 'spec_interp' else 'gl',
                                   FLAGS.lgt_gl_iterations)
      if net.protocol.name != d:
        raise ValueError(f'--{MODEL_FLAGS[d][what]}={path}: trained on {net.protocol.name} clips, '
                         f'not {d}')
      records.setdefault(what, net.record)
      nets.setdefault(keys[0], {})[d] = net
      if what == 'spec':  # one model loaded, two phase options
        nets.setdefault(keys[1], {})[d] = copy.copy(net)
        nets[keys[1]][d].phase = 'pghi+fgla'
    nets.setdefault('spec_interp', {})[d] = baselines.SpectrogramInterpolation(FLAGS.lgt_gl_iterations)
    why.setdefault('spec_interp', {})[d] = None
  perceptual = lambda what, name: name if records.get(what, {}).get('perceptual_weight') else 'L1'
  paper = {'ours_spec gl': f'spec {perceptual("spec", "L1+SpecP")}', 'ours_spec pghi+fgla': '',
           'ours_wave': f'wave {perceptual("wave", "L1+WaveP")}', 'ours_spec_interp pghi+fgla': '',
           'spec_interp': ''}
  return nets, why, paper


def classifiers(datasets):
  """({dataset: {kind: record}}, {dataset: {'PD kind': features}}) of the classifiers given."""
  from audio_context_encoder.longgap import classifier_training as trainer
  records, psis = {}, {}
  for d in datasets:
    records[d], psis[d] = {}, {}
    for kind in trainer.KINDS:
      path = model_path(d, f'classifier {kind}')
      if path:
        model, records[d][kind] = trainer.load_classifier_file(path)
        psis[d][f'PD {kind}'] = trainer.features(kind, model, trainer.config_of(records[d][kind]))
  return records, psis


def ablation(nets, sel, n_clips, progress):
  """Table 3 rows: each network (the spectrogram one with Griffin-Lim) on centred masks."""
  rows, proto = [], sel.protocol
  clips = sel.clips[:n_clips] if n_clips else sel.clips
  for key in ('ours_spec gl', 'ours_wave'):
    net = nets.get(key, {}).get(proto.name)
    if net is None:
      continue
    for seconds in mask_seconds():
      g = int(round(seconds * proto.sample_rate))
      mask = np.zeros(clips.shape, bool)
      mask[:, (proto.clip_samples - g) // 2:(proto.clip_samples - g) // 2 + g] = True
      out = net.fill(clips, mask)
      rf, need = models.gap_reach(net.kind, net.cfg, proto, seconds)
      unit_s = 1 / proto.sample_rate if net.kind == 'wave' else net.cfg.hop / proto.sample_rate
      rows.append({'network': report.NAMES[key], 'rf': rf, 'rf_s': rf * unit_s, 'mask_s': seconds,
                   'field': (need - 1) // 2, 'unit': 'samples' if net.kind == 'wave' else 'frames',
                   'covers': rf >= need, 'clips': len(clips),
                   'ML1': metrics.masked_l1(out, clips, mask),
                   'spectral SNR (dB)': metrics.spectral_snr(out, clips, mask, proto.sample_rate),
                   'masked ML1': metrics.masked_l1(np.where(mask, 0.0, clips), clips, mask)})
      progress(f'Table 3: {key} {seconds:g} s')
  return rows


LISTEN_CLIPS = 4  # clips per stand-in on the listening page, spread evenly over the scored ones


def listening_page(sels, shown, kept) -> str:
  """The listening page of both stand-ins (listening.py): the shown clips' original, the masked
  input and every row that filled them, with ViSQOL and the SNR over the gap."""
  folder = os.path.join(FLAGS.lgt_out_dir, f'longgap_{FLAGS.lgt_tag}', 'listen')
  for d, sel in sels.items():
    rate, (s, e) = sel.protocol.sample_rate, config.gap_bounds(sel.mask[0])
    rows = {('zeroed' if k == 'masked' else k): v for k, v in kept[d].items()
            if k not in ('masked dp', 'griffinlim_gt', 'context_phase_gt')}
    clips = [excerpts.Excerpt(f'{d} test clip {i}', 0.0, sel.clips[i]) for i in shown[d]]
    gap = lambda x, y: {'snr_td': float(base_metrics.snr(x[None, s:e], y[None, s:e])[0]),
                        'snr_ms': float('nan')}
    excerpts.score_set(clips, rows, scoring.visqol_for(sel.protocol), rate,
                       {'seconds': sel.protocol.clip_seconds, 'gaps': [(s / rate, 1000 * (e - s) / rate)]},
                       {'zeroed': 'the gap left silent (the masked input)',
                        **{k: report.NAMES[k] for k in rows if k != 'zeroed'}}, gap,
                       os.path.join(folder, d), f'{report.DATASETS[d]}: {sel.protocol.name} protocol')
  return listening.build(folder, 'Listening page: the long-gap methods on the stand-ins')


def figure(sel, kept, path):
  """Fig. 3's analogue: ground truth, then each row's output on the first clip."""
  s, e = config.gap_bounds(sel.mask[0])
  rate = sel.protocol.sample_rate
  panels = [('Ground truth', sel.clips[0])] + [(report.NAMES[k], x) for k, x in kept.items()
                                                if k != 'masked dp']
  return plots.save_spectrograms(panels, rate, path, 'One SC09-like test clip, every method (dB)',
                                 marks=(s / rate, e / rate), columns=2)


def command_line() -> str:
  names = [n for n in FLAGS if n.startswith('lgt_')]
  return 'python -m experiments.longgap.tables ' + ' '.join(
      f'--{n}={",".join(v) if isinstance(v, list) else v}' for n in sorted(names)
      for v in [getattr(FLAGS, n)])


def run() -> dict:
  """Everything; returns {output kind: path}."""
  progress, out = Progress(), f'{FLAGS.lgt_out_dir}/longgap_%s_{FLAGS.lgt_tag}'
  os.makedirs(FLAGS.lgt_out_dir, exist_ok=True)
  sels = {'sc09': scoring.select(FLAGS.lgt_sc09_data, 'test', FLAGS.lgt_sc09_clips, FLAGS.lgt_min_gap_rms),
          'esc50': scoring.select(FLAGS.lgt_esc50_data, 'test', FLAGS.lgt_esc50_clips, FLAGS.lgt_min_gap_rms)}
  for d, sel in sels.items():
    if sel.protocol.name != d:
      raise ValueError(f'the {d} folder holds a {sel.protocol.name} dataset')
  clip_s = sels['sc09'].protocol.clip_seconds
  if not all(s < clip_s for s in mask_seconds()):
    raise ValueError(f'--lgt_mask_seconds: give lengths in seconds between 0 and {clip_s:g} (the clip)')
  n_abl = min(FLAGS.lgt_ablation_clips or len(sels['sc09'].clips), len(sels['sc09'].clips))
  n_sc09, n_esc50 = len(sels['sc09'].clips), len(sels['esc50'].clips)
  progress(f'estimate: about {estimate_s(n_sc09, n_esc50, n_abl) / 60:.0f} min ({n_sc09} + {n_esc50} '
           f'clips, Deep Prior {FLAGS.lgt_dp_sc09_clips} + {FLAGS.lgt_dp_esc50_clips} clips x '
           f'{FLAGS.lgt_dp_iterations} iterations)')
  records, psis = classifiers(sels)
  nets, why, paper_rows = networks(sels)
  results, kept = {}, {d: {} for d in sels}
  shown = {d: base_metrics.spread_indices(len(sel.clips), LISTEN_CLIPS) for d, sel in sels.items()}
  for d, sel in sels.items():
    methods = [(k, n[d]) for k, n in nets.items() if d in n]
    dp = FLAGS.lgt_dp_sc09_clips if d == 'sc09' else FLAGS.lgt_dp_esc50_clips
    rows = scoring.evaluate(sel.clips, sel.mask, sel.protocol.sample_rate, min(dp, len(sel.clips)),
                            FLAGS.lgt_dp_iterations, FLAGS.lgt_lpc_order, psis[d] or None, methods,
                            kept[d], lambda name, d=d: progress(f'Table 2, {d}: {name}'),
                            scoring.visqol_for(sel.protocol), shown[d])
    results[d] = (sel, rows)
  t3_rows = ablation(nets, sels['sc09'], n_abl, progress)
  paths = {'figure': figure(sels['sc09'], {k: v[0] for k, v in kept['sc09'].items()},
                           f'{out % "figure3"}.png')}
  paths['listen'] = listening_page(sels, shown, kept)
  progress('Fig. 3 written')
  parts = {'table1': report.table1(records, {'sc09': FLAGS.lgt_sc09_data, 'esc50': FLAGS.lgt_esc50_data}),
           'table2': report.table2(results, why, paper_rows), 'table3': report.table3(t3_rows)}
  for name, (_, csv) in parts.items():
    paths[name] = f'{out % name}.csv'
    atomic.write_text(paths[name], csv)
  md = ['# Long-gap Tables 1-3 and Fig. 3 on the stand-ins (Chang et al. 2019), measured', '',
        f'Command: `{command_line()}`', '',
        f'Wall time: {progress.seconds / 60:.1f} min on this machine ({time.strftime("%Y-%m-%d")}). '
        'How far this is from the paper\'s setting: docs/longgap_models.md ("Tables 1-3"). '
        'Paper values: Chang et al. 2019 as read in audio_context_encoder/longgap/paper_tables.py '
        '("(?)": column header lost in our copy, placed by position; x: the method failed there). '
        'Their data are real SC09 and ESC-50, ours synthetic stand-ins: compare orderings, not values.', '',
        *(md_part for md_part, _ in parts.values()),
        f'Fig. 3 analogue: `{paths["figure"]}`.', '']
  paths['markdown'] = f'{out % "tables"}.md'
  atomic.write_text(paths['markdown'], '\n'.join(md))
  progress(f'wrote {", ".join(paths.values())}')
  return paths


def mask_seconds() -> list:
  """--lgt_mask_seconds as floats (2e-1 too), or ValueError naming the flag."""
  try:
    values = [float(s) for s in FLAGS.lgt_mask_seconds]
  except ValueError:
    raise ValueError(f'--lgt_mask_seconds={",".join(FLAGS.lgt_mask_seconds)}: give lengths in '
                     'seconds, e.g. 0.1,0.2') from None
  if not values or not all(0 < v for v in values):
    raise ValueError('--lgt_mask_seconds: every length must be more than 0 s')
  return values


def flag_problem():
  """Why the flags cannot make the tables (a count or order out of range, an output folder that
  is a file or cannot be written), or None: checked before any row is computed."""
  counts = [('lgt_sc09_clips', 0, '0 (all) or more'), ('lgt_esc50_clips', 0, '0 (all) or more'),
            ('lgt_dp_sc09_clips', 0, '0 or more'), ('lgt_dp_esc50_clips', 0, '0 or more'),
            ('lgt_dp_iterations', 1, '1 or more'), ('lgt_lpc_order', 1, '1 or more'),
            ('lgt_gl_iterations', 1, '1 or more'), ('lgt_ablation_clips', 0, '0 (all) or more')]
  for name, lowest, allowed in counts:
    if getattr(FLAGS, name) < lowest:
      return f'--{name}={getattr(FLAGS, name)}: must be {allowed}'
  if FLAGS.lgt_min_gap_rms < 0:
    return f'--lgt_min_gap_rms={FLAGS.lgt_min_gap_rms}: must be 0 or more'
  try:
    mask_seconds()
  except ValueError as e:
    return str(e)
  out = FLAGS.lgt_out_dir
  if os.path.exists(out) and not os.path.isdir(out):
    return f'--lgt_out_dir={out}: is a file, not a folder'
  return None


def main(argv):
  del argv
  return entry.run_main(flag_problem(), write_tables,
                        (DatasetError, ValueError, atomic.WriteError),
                        'nothing was written', error_code=1)


def write_tables() -> None:
  out = FLAGS.lgt_out_dir
  try:
    os.makedirs(out, exist_ok=True)
    atomic.check_writable(os.path.join(out, 'longgap_tables.md'))
    run()
  except OSError as e:
    raise atomic.WriteError(f'{out}: {atomic.describe(e)}') from None


if __name__ == '__main__':
  app.run(main)
