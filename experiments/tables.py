"""Tables 2 and 3 of the paper (SNR_MS of 64 ms and 48 ms gaps), pure tones, Figure 3/4-style spectrograms.

  python -m experiments.tables --music_data=data/fma-small --instruments_data=data/nsynth \
      --music_model=runs/music/best.keras --instruments_model=runs/instruments/best.keras

Without models only the LPC columns are computed (`make tables-lpc`). Writes, under
--out_dir: table2.{md,csv}, table3.{md,csv}, tones.{md,csv}, per-segment values
(per_segment/*.npz, also the resume state of long runs) and, with a model,
figure4_<dataset>.png (a segment where the network wins by the widest margin and
one where it loses by the widest, as the paper chose them).
"""

import csv
import datetime
import io
import os
import shlex
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np
from absl import app, flags

from audio_context_encoder import config as config_lib
from audio_context_encoder import atomic, evaluation, metrics

FLAGS = flags.FLAGS
flags.DEFINE_string('music_data', 'data/demo-music', 'music dataset folder (manifest.json + tfrecords)')
flags.DEFINE_string('instruments_data', 'data/demo-instruments', 'instruments dataset folder')
flags.DEFINE_string('music_model', None, '.keras magnitude network trained on music (omit: LPC only)')
flags.DEFINE_string('instruments_model', None, '.keras magnitude network trained on instruments')
flags.DEFINE_string('split', 'test', 'split to evaluate')
flags.DEFINE_integer('max_segments', 0, 'segments per dataset and gap length (0 = all)')
flags.DEFINE_integer('batch_size', 256, 'segments per batch (phase retrieval and LPC are batched: '
                     'larger batches are faster per segment, benchmarks/bench_reconstruction.py)')
flags.DEFINE_enum('phase_method', None, ['pghi+fgla', 'pghi', 'fgla', 'true_phase'],
                  'phase retrieval for the network (default: config, PGHI + 100 FGLA)')
flags.DEFINE_string('out_dir', 'results', 'where the tables go')
flags.DEFINE_integer('tones', 64, 'pure tones to evaluate (log-spaced 50 Hz .. 7.5 kHz; 0 = none)')
flags.DEFINE_bool('figures', True, 'write the spectrogram figures (needs a model)')
flags.DEFINE_integer('workers', None, 'processes for phase retrieval and LPC (default: one per core)')
flags.DEFINE_bool('estimate', True, 'time one batch per method and print the estimated total first')

# The paper's numbers (REFERENCE.md): SNR_MS mean, std.
PAPER = {
    (2, 'music', 'network'): (7.7, 4.3), (2, 'music', 'lpc'): (6.3, 5.1),
    (2, 'instruments', 'network'): (22.0, 10.4), (2, 'instruments', 'lpc'): (30.6, 18.9),
    (3, 'music', 'network'): (8.0, 4.6), (3, 'music', 'lpc'): (6.9, 5.5),
    (3, 'instruments', 'network'): (21.6, 11.5), (3, 'instruments', 'lpc'): (33.2, 20.1),
}
TABLE_GAP = {2: 64, 3: 48}
METHODS = ('network', 'interp', 'lpc')
KINDS = ('music', 'instruments')


def _write_text(path, text):
  atomic.write_text(path, text)


def _write_csv(path, rows):
  buf = io.StringIO()
  w = csv.DictWriter(buf, fieldnames=list(rows[0]))
  w.writeheader()
  w.writerows(rows)
  atomic.write_text(path, buf.getvalue())


def _fmt(x):
  return '—' if x is None or not np.isfinite(x) else f'{x:.1f}'


def _summary(table, out):
  """metrics.summary of SNR_MS, the one summary of tables, `evaluate` and README.

  Table 3's network: out['snr_ms'] is each segment's mean over the three extensions
  (evaluation.evaluate), so the std is over segments of that mean.
  """
  del table
  s = metrics.summary(out['snr_ms'])
  s['snr_td_mean'] = metrics.summary(out['snr_td'])['mean']
  if 'snr_mag' in out:
    s['snr_mag_mean'] = metrics.summary(out['snr_mag'])['mean']
  s['tracks'] = len(set(np.asarray(out.get('track_id', [])).tolist()))
  return s


def _models():
  """{'music': (predict_fn, path, cfg) or None, ...}; TF/Keras imported only when needed."""
  models = {}
  for kind, path in (('music', FLAGS.music_model), ('instruments', FLAGS.instruments_model)):
    if not path:
      models[kind] = None
      continue
    if not os.path.exists(path):
      raise ValueError(f'{path}: no such model file')
    from audio_context_encoder.model import load_model
    model, cfg = load_model(path)
    if cfg.network.output != 'magnitude':
      print(f'note: {path} is a {cfg.network.output} network; Tables 2-3 are for the magnitude one')
    models[kind] = (evaluation.network_predictor(model, cfg, FLAGS.batch_size), path, cfg)
  return models


def _print_estimate(datasets, models, cfg):
  """Times one batch of each (method, gap) and prints the projected total of all jobs (eta.py)."""
  from audio_context_encoder import eta
  from tfrecords_tools.manifest import DatasetError
  jobs = []
  for kind in KINDS:
    for table, gap_ms in TABLE_GAP.items():
      for method in METHODS:
        if not datasets[kind] or (method == 'network' and not models[kind]):
          continue
        try:
          n = eta.segment_count(datasets[kind], FLAGS.split, gap_ms, FLAGS.max_segments)
        except DatasetError:
          continue
        jobs.append((f'{kind} Table {table} {method}', n, (method, gap_ms, kind)))
  rates = {}
  for _, _, key in jobs:
    method, gap_ms, kind = key
    predict_fn = models[kind][0] if method == 'network' else None
    rates[key] = eta.seconds_per_segment(method, gap_ms, predict_fn, cfg, min(FLAGS.batch_size, 64),
                                         FLAGS.phase_method)
  if jobs:
    print(eta.estimate(jobs, rates), flush=True)


def _run(kind, data_dir, method, gap_ms, models, cfg):
  os.makedirs(os.path.join(FLAGS.out_dir, 'per_segment'), exist_ok=True)
  tag = f'{kind}_{method}_{gap_ms}ms_{FLAGS.split}'
  if FLAGS.max_segments:
    tag += f'_spread{FLAGS.max_segments}'  # a fixed stride over the split (evaluate_dataset)
  final = os.path.join(FLAGS.out_dir, 'per_segment', f'{tag}.npz')
  predict_fn = models[kind][0] if method == 'network' else None
  out = evaluation.evaluate_dataset(data_dir, FLAGS.split, method, gap_ms, predict_fn, cfg,
                                    FLAGS.max_segments, FLAGS.batch_size, FLAGS.phase_method,
                                    resume_path=final + '.partial.npz')
  evaluation._save_npz(final, {k: np.asarray(v) for k, v in out.items()})
  if os.path.exists(final + '.partial.npz'):
    os.remove(final + '.partial.npz')
  return out


def _table(table, results, datasets, models, command):
  gap_ms = TABLE_GAP[table]
  cols = [(k, m) for k in KINDS for m in METHODS]
  head = {'network': 'Mag' if table == 2 else 'Ours', 'interp': 'Interp', 'lpc': 'LPC'}
  lines = [f'# Table {table}: SNR_MS (dB) of {gap_ms} ms gaps'
           + (' (64 ms network, gap extended 16 ms forward / 16 ms backward / 8+8 ms centred, averaged)'
              if table == 3 else ''), '',
           '| | ' + ' | '.join(f'{k} {head[m]}' for k, m in cols) + ' |',
           '|---|' + '---|' * len(cols)]
  rows = []
  get = lambda k, m: results.get((table, k, m))
  for label, key in (('Mean (ours)', 'mean'), ('Std (ours)', 'std')):
    lines.append(f'| {label} | ' + ' | '.join(_fmt(get(k, m)[key] if get(k, m) else None)
                                            for k, m in cols) + ' |')
  for label, i in (('Mean (paper)', 0), ('Std (paper)', 1)):
    lines.append(f'| {label} | ' + ' | '.join(_fmt(PAPER.get((table, k, m), (None, None))[i])
                                            for k, m in cols) + ' |')
  lines.append('| Segments | ' + ' | '.join(str(get(k, m)['n']) if get(k, m) else '—' for k, m in cols)
               + ' |')
  lines.append('| Tracks | ' + ' | '.join(str(get(k, m)['tracks']) if get(k, m) else '—' for k, m in cols)
               + ' |')
  lines.append('| SNR_TD mean | ' + ' | '.join(_fmt(get(k, m)['snr_td_mean'] if get(k, m) else None)
                                              for k, m in cols) + ' |')
  lines += ['', '— = not computed (no model given, or no dataset; the paper has no Interp column).',
            'Interp = per-bin linear interpolation of the border context frames\' magnitudes + the '
            'same phase retrieval as the network: the no-training baseline the network must beat.',
            'Std is over segments (metrics.summary)' + ('; for the network, of each segment\'s mean over '
                                                        'the three extensions' if table == 3 else '')
            + '. ' + (f'At most {FLAGS.max_segments} segments per column, taken at a fixed stride over '
                      'the whole split.' if FLAGS.max_segments else 'All segments of the split.'), '']
  for k in KINDS:
    ckpt = models[k][1] if models.get(k) else 'none (LPC only)'
    lines.append(f'- {k}: dataset `{datasets[k]}` split `{FLAGS.split}`, checkpoint `{ckpt}`')
  for (t, k, m), s in sorted(results.items()):
    if t == table and m == 'lpc':
      lines.append(f'- {k} LPC: {s["n_fallback"]} segment(s) used the degenerate-context fallback; '
                   f'{s["n_nonfinite"]} non-finite SNR(s) left out of mean/std')
    if t == table and 'snr_mag_mean' in s:
      lines.append(f'- {k} {m}: SNR of the magnitudes before phase retrieval '
                   f'{_fmt(s["snr_mag_mean"])} dB')
  lines += [f'- phase retrieval: {FLAGS.phase_method or config_lib.ReconstructionConfig().phase_method}',
            f'- command: `{command}`', f'- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC', '']
  for k, m in cols:
    s = get(k, m)
    rows.append({'table': table, 'gap_ms': gap_ms, 'dataset': k, 'data_dir': datasets[k], 'method': m,
                 'snr_ms_mean': s['mean'] if s else '', 'snr_ms_std': s['std'] if s else '',
                 'snr_td_mean': s['snr_td_mean'] if s else '', 'segments': s['n'] if s else 0,
                 'tracks': s['tracks'] if s else 0,
                 'paper_mean': PAPER.get((table, k, m), ('', ''))[0],
                 'paper_std': PAPER.get((table, k, m), ('', ''))[1],
                 'checkpoint': (models[k][1] if (m == 'network' and models.get(k)) else ''),
                 'command': command})
  _write_text(os.path.join(FLAGS.out_dir, f'table{table}.md'), '\n'.join(lines))
  _write_csv(os.path.join(FLAGS.out_dir, f'table{table}.csv'), rows)


def _tones(models, cfg, command):
  """Pure tones, 64 ms gaps: the paper evaluates on them too (§3, no numbers given)."""
  sig = config_lib.signal_config(64)
  rng = np.random.default_rng(0)
  freqs = np.geomspace(50, 7500, FLAGS.tones)
  t = (np.arange(sig.L + 512) - 256) / sig.sample_rate
  audio = 0.5 * np.sin(2 * np.pi * freqs[:, None] * t + rng.uniform(0, 2 * np.pi, (len(freqs), 1)))
  methods = {'lpc': ('lpc', None), 'interp': ('interp', None)}
  for kind, m in models.items():
    if m:
      methods[f'network ({kind})'] = ('network', m[0])
  per = {}
  for name, (method, fn) in methods.items():
    per[name] = evaluation.evaluate(audio, method, 64, fn, cfg, FLAGS.phase_method)
  lines = ['# Pure tones, 64 ms gaps: SNR_MS (dB)', '',
           f'{len(freqs)} tones, amplitude 0.5, random phase, '
           f'log-spaced {freqs[0]:.0f}..{freqs[-1]:.0f} Hz.', '',
           '| method | mean | std | min | SNR_TD mean | LPC fallbacks |', '|---|---|---|---|---|---|']
  for name, out in per.items():
    s = metrics.summary(out['snr_ms'])
    finite = out['snr_ms'][np.isfinite(out['snr_ms'])]
    lowest = finite.min() if finite.size else None
    lines.append(f'| {name} | {_fmt(s["mean"])} | {_fmt(s["std"])} | {_fmt(lowest)} '
                 f'| {_fmt(metrics.summary(out["snr_td"])["mean"])} | {out.get("n_fallback", "")} |')
  lines += ['', f'- command: `{command}`', '']
  _write_text(os.path.join(FLAGS.out_dir, 'tones.md'), '\n'.join(lines))
  rows = [{'frequency_hz': f, **{f'snr_ms {n}': o['snr_ms'][i] for n, o in per.items()},
           **{f'snr_td {n}': o['snr_td'][i] for n, o in per.items()}} for i, f in enumerate(freqs)]
  _write_csv(os.path.join(FLAGS.out_dir, 'tones.csv'), rows)


def _figure(kind, data_dir, net, lpc_out, predict_fn, cfg):
  """Spectrograms original / network / interp / LPC of the segments with the largest and smallest
  network - LPC."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  from tfrecords_tools import reader
  from audio_context_encoder import dgt

  if len(net['snr_ms']) != len(lpc_out['snr_ms']) or not len(net['snr_ms']):
    return None
  diff = net['snr_ms'] - lpc_out['snr_ms']
  ok = np.isfinite(diff)
  if not ok.any():
    return None
  picks = [int(np.flatnonzero(ok)[np.argmax(diff[ok])]), int(np.flatnonzero(ok)[np.argmin(diff[ok])])]
  sig = config_lib.signal_config(64)
  fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), sharex=True, sharey=True)
  for row, pick in enumerate(picks):
    idx = int(net['index'][pick]) if 'index' in net else pick  # position in the split
    ds = reader.evaluation_dataset(data_dir, FLAGS.split, 64, FLAGS.batch_size).skip(idx // FLAGS.batch_size)
    batch = next(iter(ds.take(1)))
    audio = batch['audio'].numpy()[idx % FLAGS.batch_size:idx % FLAGS.batch_size + 1]
    n = evaluation.evaluate(audio, 'network', 64, predict_fn, cfg, FLAGS.phase_method, return_restored=True)
    i = evaluation.evaluate(audio, 'interp', 64, None, cfg, FLAGS.phase_method, return_restored=True)
    l = evaluation.evaluate(audio, 'lpc', 64, return_restored=True)
    panels = [('original', n['original'][0], None), ('network', n['restored'][0], n['snr_ms'][0]),
              ('interpolation', i['restored'][0], i['snr_ms'][0]),
              ('LPC', l['restored'][0], l['snr_ms'][0])]
    vmax = None
    for col, (name, x, snr) in enumerate(panels):
      spec = 20 * np.log10(np.abs(dgt.dgt(x.astype(np.float64)[None], sig)[0]).T + 1e-6)
      vmax = spec.max() if vmax is None else vmax
      ax = axes[row, col]
      ax.imshow(spec, origin='lower', aspect='auto', vmin=vmax - 80, vmax=vmax, cmap='magma',
                extent=[0, sig.L / sig.sample_rate * 1e3, 0, sig.sample_rate / 2e3])
      for edge in (sig.Lc, sig.Lc + sig.Lg):
        ax.axvline(edge / sig.sample_rate * 1e3, color='w', lw=0.6, ls='--')
      title = name if snr is None else f'{name}: SNR_MS {snr:.1f} dB'
      ax.set_title(title, fontsize=9)
      if row == 1:
        ax.set_xlabel('time (ms)')
      if col == 0:
        # Largest / smallest (network - LPC) SNR_MS: 'wins' only when that difference is positive.
        d = float(diff[pick])
        verdict = ('network wins' if d > 0 else 'network loses') + f' by {abs(d):.1f} dB'
        ax.set_ylabel(f'{verdict}\nfrequency (kHz)')
    track = batch['track_id'].numpy()[idx % FLAGS.batch_size].decode(errors='replace')
    axes[row, 0].text(2, 7.4, f'{track} @ {int(batch["offset"].numpy()[idx % FLAGS.batch_size])}',
                      color='w', fontsize=7, va='top')
  fig.suptitle(f'{kind}: magnitude spectrograms (dB), 64 ms gap between the dashed lines')
  fig.tight_layout()
  path = os.path.join(FLAGS.out_dir, f'figure4_{kind}.png')
  with atomic.replacing(path) as tmp:
    fig.savefig(tmp, dpi=110)
  plt.close(fig)
  return path


def main(argv):
  del argv
  command = ' '.join(['python -m experiments.tables'] + [shlex.quote(a) for a in sys.argv[1:]])
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  try:
    models = _models()
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  from tfrecords_tools.manifest import DatasetError
  datasets = {'music': FLAGS.music_data, 'instruments': FLAGS.instruments_data}
  cfg = config_lib.paper()
  from audio_context_encoder import compute
  compute.set_workers(FLAGS.workers)
  if FLAGS.estimate:
    _print_estimate(datasets, models, cfg)
  results, raw = {}, {}
  for kind in KINDS:
    if not datasets[kind]:
      continue
    for table, gap_ms in TABLE_GAP.items():
      for method in METHODS:
        if method == 'network' and not models[kind]:
          continue
        try:
          out = _run(kind, datasets[kind], method, gap_ms, models, cfg)
        except DatasetError as e:
          print(f'error: {e}', file=sys.stderr)
          return 2
        raw[(table, kind, method)] = out
        s = _summary(table, out)
        s['n_fallback'] = out.get('n_fallback', 0)
        results[(table, kind, method)] = s
        print(f'Table {table} {kind} {method}: SNR_MS {s["mean"]:.2f} ({s["std"]:.2f}) dB '
              f'over {s["n"]} segments of {s["tracks"]} tracks')
  for table in TABLE_GAP:
    _table(table, results, datasets, models, command)
  if FLAGS.tones:
    _tones(models, cfg, command)
  if FLAGS.figures:
    for kind in KINDS:
      if models.get(kind) and (2, kind, 'network') in raw:
        path = _figure(kind, datasets[kind], raw[(2, kind, 'network')], raw[(2, kind, 'lpc')],
                       models[kind][0], cfg)
        if path:
          print(f'wrote {path}')
  print(f'wrote {FLAGS.out_dir}/table2.md, table3.md' + (', tones.md' if FLAGS.tones else ''))
  return 0


if __name__ == '__main__':
  app.run(main)
