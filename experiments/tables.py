"""Tables 2 and 3 of the paper (SNR_MS of 64 ms and 48 ms gaps), pure tones, Figure 3/4-style spectrograms.

  python -m experiments.tables --music_data=data/fma-small --instruments_data=data/nsynth \
      --music_model=runs/music/best.keras --instruments_model=runs/instruments/best.keras

Without models only the LPC columns are computed (`make tables-lpc`). Writes, under
--out_dir: table2.{md,csv}, table3.{md,csv}, tones.{md,csv}, per-segment values
(per_segment/*.npz, also the resume state of long runs) and, with a model,
figure4_<dataset>.png (a segment where the network wins by the widest margin and
one where it loses by the widest, as the paper chose them).
"""

import json
import os
import shlex
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.common import entry  # noqa: E402
from audio_context_encoder.common import compute
from audio_context_encoder.evaluation import eta
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import excerpts  # noqa: E402
from audio_context_encoder.evaluation import listening
from audio_context_encoder.evaluation import perceptual
from audio_context_encoder.dsp import phase
from audio_context_encoder.evaluation import plots  # noqa: E402
from audio_context_encoder import config as config_lib  # noqa: E402
from audio_context_encoder.evaluation import paper_tables  # noqa: E402
from audio_context_encoder.common.errors import DatasetError, UserError, WriteError  # noqa: E402
from audio_context_encoder.evaluation.paper_tables import KINDS, TABLE_GAP  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('music_data', 'data/demo-music', 'music dataset folder (manifest.json + tfrecords)')
flags.DEFINE_string('instruments_data', 'data/demo-instruments', 'instruments dataset folder')
flags.DEFINE_string('music_model', None, '.keras magnitude network trained on music (omit: LPC only)')
flags.DEFINE_string('instruments_model', None, '.keras magnitude network trained on instruments')
flags.DEFINE_string('split', 'test', 'split to evaluate')
flags.DEFINE_integer('max_segments', 0, 'segments per dataset and gap length (0 = all)')
flags.DEFINE_integer('batch_size', 256, 'segments per batch (phase retrieval and LPC are batched: '
                     'larger batches are faster per segment, benchmarks/bench_reconstruction.py)')
flags.DEFINE_enum('phase_method', None, list(phase.METHODS),
                  'phase retrieval for the network (default: config, PGHI + 100 FGLA)')
flags.DEFINE_string('out_dir', 'results', 'where the tables go')
flags.DEFINE_integer('tones', 64, 'pure tones to evaluate (log-spaced 50 Hz .. 7.5 kHz; 0 = none)')
flags.DEFINE_bool('figures', True, 'write the spectrogram figures (needs a model)')
flags.DEFINE_integer('workers', None, 'processes for phase retrieval and LPC (default: one per core)')
flags.DEFINE_bool('estimate', True, 'time one batch per method and print the estimated total first')
flags.DEFINE_list('methods', [], 'methods to evaluate (default: every registered one, '
                  'methods.names(); the network only with a model)')
flags.DEFINE_integer('shard', 0, 'with --num_shards: evaluate only this share (0 .. num_shards - 1) of '
                     "each column's segments and save its per-segment values; no tables")
flags.DEFINE_integer('num_shards', 1, 'split every column into this many shards (machines); then '
                     '--merge writes the tables from their saved values (the same out_dir)')
flags.DEFINE_bool('merge', False, 'with --num_shards: write the tables from the shards saved in '
                  'out_dir/per_segment (each evaluated by a --shard run)')
flags.DEFINE_integer('perceptual_excerpts', 16, 'excerpts per dataset for the perceptual table and '
                     'the listening page (docs/perceptual.md; 0 = none)')



def _methods_of(model_path):
  """{name: Method}: every registered method; a trained one (the network) only when a model is
  given, and then evaluated with the model's own config."""
  chosen = {}
  for name in methods.names():
    if (methods.trained(name) and not model_path) or (FLAGS.methods and name not in FLAGS.methods):
      continue
    method = methods.get(name, model=model_path, phase_method=FLAGS.phase_method,
                         batch_size=FLAGS.batch_size, magnitude_only=False)
    output = getattr(getattr(method, 'cfg', None), 'network', None)
    if methods.trained(name) and output is not None and output.output != 'magnitude':
      print(f'note: {model_path} is a {output.output} network; Tables 2-3 are for the magnitude one')
    chosen[name] = method
  return chosen


def _print_estimate(datasets, chosen):
  """Times one batch of each (method, gap) and prints the projected total of all jobs (eta.py)."""
  jobs, rates = [], {}
  for kind in KINDS:
    for table, gap_ms in TABLE_GAP.items():
      for name, method in chosen[kind].items():
        if not datasets[kind]:
          continue
        try:
          n = eta.segment_count(datasets[kind], FLAGS.split, gap_ms, FLAGS.max_segments)
        except DatasetError:
          continue
        key = (name, gap_ms, kind if methods.trained(name) else None)
        jobs.append((f'{kind} Table {table} {name}', n, key))
        if key not in rates:
          rates[key] = eta.seconds_per_segment(method, gap_ms, batch=min(FLAGS.batch_size, 64))
  if jobs:
    print(eta.estimate(jobs, rates), flush=True)


def _run(kind, data_dir, name, method, gap_ms):
  """One job (dataset x table x method): its finished values when a run with the same job key
  saved them (evaluation.job_key), else evaluated, resuming a run killed on the same key. With
  --num_shards, the job's shard (--shard), or with --merge its shards joined."""
  tag = f'{kind}_{name}_{gap_ms}ms_{FLAGS.split}'
  if FLAGS.max_segments:
    tag += f'_spread{FLAGS.max_segments}'  # a fixed stride over the split (evaluate_dataset)
  if FLAGS.merge:
    return _merged(kind, data_dir, name, method, gap_ms, tag)
  shard = (FLAGS.shard, FLAGS.num_shards)
  final, key = _job(data_dir, method, gap_ms, tag, shard)
  out = evaluation.load_finished(final, key)
  if out is not None:
    print(f'{kind} {name} {gap_ms} ms: done before ({final}, same dataset, model and settings)')
    return out
  out = evaluation.evaluate_dataset(data_dir, FLAGS.split, method, gap_ms,
                                    max_segments=FLAGS.max_segments, batch_size=FLAGS.batch_size,
                                    resume_path=final + '.partial.npz', shard=shard)
  evaluation.save_result(final, out, key)
  if os.path.exists(final + '.partial.npz'):
    os.remove(final + '.partial.npz')
  return out


def _job(data_dir, method, gap_ms, tag: str, shard) -> tuple:
  """(where a job's per-segment values are saved, its job key); shard (i, N) of N > 1 is named
  in the file and the key."""
  i, n = shard
  name = f'{tag}_shard{i}of{n}' if n > 1 else tag
  return (os.path.join(FLAGS.out_dir, 'per_segment', f'{name}.npz'),
          evaluation.job_key(data_dir, FLAGS.split, method, gap_ms, FLAGS.max_segments,
                             FLAGS.batch_size, shard))


def _merged(kind, data_dir, name, method, gap_ms, tag) -> dict:
  """A job's --num_shards shards, each saved by its --shard run under its own job key, joined
  into the values of one run (evaluation.merge_shards)."""
  parts = []
  for i in range(FLAGS.num_shards):
    path, key = _job(data_dir, method, gap_ms, tag, (i, FLAGS.num_shards))
    part = evaluation.load_finished(path, key)
    if part is None:
      raise UserError(f'{path}: shard {i} of {FLAGS.num_shards} of {kind} {name} {gap_ms} ms is '
                      f'missing or was made with other settings; run it with --shard={i} '
                      f'--num_shards={FLAGS.num_shards} (and the same flags) first')
    parts.append(part)
  print(f'{kind} {name} {gap_ms} ms: {FLAGS.num_shards} shards merged')
  return evaluation.merge_shards(parts)


def _perceptual(kind, data_dir, chosen) -> dict:
  """The excerpt protocol (excerpts.py) on one dataset's split, every method of the tables:
  the ViSQOL table's record, its excerpts saved under out_dir/listen/<kind>/ for the page.
  Reused when excerpts.json there holds the same key (dataset, models, protocol, count)."""
  folder = os.path.join(FLAGS.out_dir, 'listen', kind)
  key = {'jobs': {name: evaluation.job_key(data_dir, FLAGS.split, m, 64) for name, m in
                  chosen.items()},
         'protocol': excerpts.PROTOCOL.seconds, 'gaps': excerpts.PROTOCOL.gaps,
         'n': FLAGS.perceptual_excerpts}
  key = json.loads(json.dumps(key))
  saved = os.path.join(folder, 'excerpts.json')
  if os.path.exists(saved):
    try:
      with open(saved) as f:
        record = json.load(f)
      if record.get('key') == key:
        print(f'{kind} perceptual: done before ({saved}, same dataset, models and protocol)')
        return record
    except (OSError, ValueError):
      pass
    print(f'note: {saved} was made by another dataset, model or protocol; scoring again')
  shown = excerpts.dataset_excerpts(data_dir, FLAGS.split, FLAGS.perceptual_excerpts)
  record = excerpts.run(shown, chosen, perceptual.Visqol('audio'), folder,
                        title=f'{kind}: {data_dir}, {FLAGS.split} split')
  record['key'] = key
  atomic.write_json(saved, record, indent=1)
  return record


def _perceptual_table(records, command):
  """perceptual.md and .csv: per dataset, excerpts.table of its record."""
  lines = ['# Perceptual score: ViSQOL v3 (audio mode, 48 kHz) on 3 s excerpts with three gaps',
           '', 'The excerpt protocol: docs/perceptual.md. Each dataset\'s excerpts are taken '
           'evenly over every track of its split; every method fills the same gaps. '
           'Listen: `listen/index.html`.', '']
  rows = []
  for kind, record in records.items():
    lines += [f'## {kind} ({len(record["excerpts"])} excerpts; {record["mapper"]})', '',
              excerpts.table(record)]
    for name in record['methods']:
      v = perceptual.summary(excerpts.scores_of(record, name))
      d = perceptual.paired(excerpts.scores_of(record, name),
                            excerpts.scores_of(record, excerpts.ZEROED))
      rows.append({'dataset': kind, 'method': name, 'excerpts': v['n'], 'visqol_mean': v['mean'],
                   'visqol_std': v['std'], 'vs_zeroed_mean': d['mean'], 'vs_zeroed_se': d['se'],
                   'snr_td_mean': metrics.summary(excerpts.scores_of(record, name, 'snr_td'))['mean'],
                   'snr_ms_mean': metrics.summary(excerpts.scores_of(record, name, 'snr_ms'))['mean'],
                   'ceiling': perceptual.summary([e['ceiling'] for e in record['excerpts']])['mean'],
                   'command': command})
  lines += [f'- command: `{command}`', f'- date: {time.strftime("%Y-%m-%d %H:%M", time.gmtime())} UTC', '']
  atomic.write_text(os.path.join(FLAGS.out_dir, 'perceptual.md'), '\n'.join(lines))
  paper_tables.write_csv(os.path.join(FLAGS.out_dir, 'perceptual.csv'), rows)


def _table(table, results, datasets, checkpoints, command):
  names = methods.names()
  phase_method = FLAGS.phase_method or config_lib.ReconstructionConfig().phase_method
  text = paper_tables.markdown(table, results, names, datasets, FLAGS.split, checkpoints,
                               FLAGS.max_segments, phase_method, command)
  atomic.write_text(os.path.join(FLAGS.out_dir, f'table{table}.md'), text)
  paper_tables.write_csv(os.path.join(FLAGS.out_dir, f'table{table}.csv'),
                         paper_tables.csv_rows(table, results, names, datasets, checkpoints, command))


def _tones(chosen, command):
  """Pure tones, 64 ms gaps: the paper evaluates on them too (§3, no numbers given)."""
  sig = config_lib.signal_config(64)
  rng = np.random.default_rng(0)
  freqs = np.geomspace(50, 7500, FLAGS.tones)
  t = (np.arange(sig.L + 512) - 256) / sig.sample_rate
  audio = 0.5 * np.sin(2 * np.pi * freqs[:, None] * t + rng.uniform(0, 2 * np.pi, (len(freqs), 1)))
  # Untrained methods once, the reference (LPC) first; then each kind's trained ones.
  untrained = [name for name in reversed(methods.names()) if not methods.trained(name)]
  runs = {name: chosen['music'][name] for name in untrained}
  for kind in KINDS:
    for name, m in chosen[kind].items():
      if methods.trained(name):
        runs[f'{name} ({kind})'] = m
  per = {name: evaluation.evaluate(audio, m, 64) for name, m in runs.items()}
  fmt = paper_tables.fmt
  lines = ['# Pure tones, 64 ms gaps: SNR_MS (dB)', '',
           f'{len(freqs)} tones, amplitude 0.5, random phase, '
           f'log-spaced {freqs[0]:.0f}..{freqs[-1]:.0f} Hz.', '',
           '| method | mean | std | min | SNR_TD mean | LPC fallbacks |', '|---|---|---|---|---|---|']
  for name, out in per.items():
    s = metrics.summary(out['snr_ms'])
    finite = out['snr_ms'][np.isfinite(out['snr_ms'])]
    lowest = finite.min() if finite.size else None
    lines.append(f'| {name} | {fmt(s["mean"])} | {fmt(s["std"])} | {fmt(lowest)} '
                 f'| {fmt(metrics.summary(out["snr_td"])["mean"])} | {out.get("n_fallback", "")} |')
  lines += ['', f'- command: `{command}`', '']
  atomic.write_text(os.path.join(FLAGS.out_dir, 'tones.md'), '\n'.join(lines))
  rows = [{'frequency_hz': f, **{f'snr_ms {n}': o['snr_ms'][i] for n, o in per.items()},
           **{f'snr_td {n}': o['snr_td'][i] for n, o in per.items()}} for i, f in enumerate(freqs)]
  paper_tables.write_csv(os.path.join(FLAGS.out_dir, 'tones.csv'), rows)


def _figure(kind, data_dir, net, lpc_out, chosen):
  """Spectrograms original / network / interp / LPC of the segments with the largest and smallest
  network - LPC."""
  import matplotlib  # optional and slow to import: only for the figures
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  from audio_context_encoder.context_encoder import reader  # TensorFlow (tf.data)

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
    n, i, l = (evaluation.evaluate(audio, chosen[name], 64, return_restored=True)
               for name in ('network', 'interp', 'lpc'))
    panels = [('original', n['original'][0], None), ('network', n['restored'][0], n['snr_ms'][0]),
              ('interpolation', i['restored'][0], i['snr_ms'][0]),
              ('LPC', l['restored'][0], l['snr_ms'][0])]
    vmax = None
    for col, (name, x, snr) in enumerate(panels):
      # The paper's STFT resolution (M = 512, a = 128).
      t, f, spec = plots.spectrogram_db(x, sig.sample_rate, sig.M, sig.a)
      vmax = spec.max() if vmax is None else vmax
      ax = axes[row, col]
      ax.pcolormesh(t * 1e3, f / 1e3, spec, vmin=vmax - 80, vmax=vmax, cmap='magma', shading='auto')
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


def flag_problem():
  """Why the flags cannot make tables (a value out of range, an unknown method), or None."""
  unknown = [m for m in FLAGS.methods if m not in methods.names()]
  if unknown:
    return f'--methods: unknown method {unknown[0]!r}; choose from {", ".join(methods.names())}'

  for name, ok, allowed in (('max_segments', FLAGS.max_segments >= 0, '0 (every segment) or more'),
                            ('batch_size', FLAGS.batch_size >= 1, '1 or more'),
                            ('tones', FLAGS.tones >= 0, '0 (none) or more'),
                            ('workers', FLAGS.workers is None or FLAGS.workers >= 1, '1 or more'),
                            ('perceptual_excerpts', FLAGS.perceptual_excerpts >= 0, '0 (none) or more'),
                            ('num_shards', FLAGS.num_shards >= 1, '1 or more'),
                            ('shard', 0 <= FLAGS.shard < FLAGS.num_shards,
                             f'0 .. {FLAGS.num_shards - 1} (--num_shards={FLAGS.num_shards})')):
    if not ok:
      return f'--{name}={getattr(FLAGS, name)}: must be {allowed}'
  if FLAGS.merge and FLAGS.num_shards < 2:
    return '--merge: give --num_shards, the number of shards to merge'
  return None


def prepare_out_dir(out_dir: str) -> None:
  """out_dir and out_dir/per_segment exist and take new files, checked before any job runs
  (a table written at the very end must not fail after hours of work)."""
  for folder in (out_dir, os.path.join(out_dir, 'per_segment')):
    if os.path.exists(folder) and not os.path.isdir(folder):
      raise WriteError(f'--out_dir: {folder} is a file, not a folder')
    try:
      os.makedirs(folder, exist_ok=True)
    except OSError as e:
      raise WriteError(f'--out_dir: cannot create {folder} ({atomic.describe(e)})') from None
    atomic.check_writable(os.path.join(folder, 'table2.md'))


def main(argv):
  del argv
  return entry.run_main(flag_problem(), run, (UserError, DatasetError, WriteError),
                        'finished jobs and the progress of the current one are saved: run the same '
                        'command to go on')


def run() -> int:
  started = time.monotonic()
  command = ' '.join(['python -m experiments.tables'] + [shlex.quote(a) for a in sys.argv[1:]])
  prepare_out_dir(FLAGS.out_dir)
  checkpoints = {'music': FLAGS.music_model, 'instruments': FLAGS.instruments_model}
  chosen = {kind: _methods_of(checkpoints[kind]) for kind in KINDS}
  datasets = {'music': FLAGS.music_data, 'instruments': FLAGS.instruments_data}
  compute.set_workers(FLAGS.workers)
  sharded = FLAGS.num_shards > 1 and not FLAGS.merge  # a shard saves its values, no tables
  if FLAGS.estimate and not FLAGS.merge:
    _print_estimate(datasets, chosen)
  results, raw = {}, {}
  for kind in KINDS:
    if not datasets[kind]:
      continue
    for table, gap_ms in TABLE_GAP.items():
      for name, method in chosen[kind].items():
        out = _run(kind, datasets[kind], name, method, gap_ms)
        if sharded:
          continue
        raw[(table, kind, name)] = out
        s = results[(table, kind, name)] = paper_tables.summary(out)
        print(f'Table {table} {kind} {name}: SNR_MS {s["mean"]:.2f} ({s["std"]:.2f}) dB '
              f'over {s["n"]} segments of {s["tracks"]} tracks')
  if sharded:
    print(f'shard {FLAGS.shard} of {FLAGS.num_shards} done in '
          f'{eta.format_seconds(time.monotonic() - started)}: once every shard is in '
          f'{FLAGS.out_dir}/per_segment, the same flags with --merge write the tables')
    return 0
  for table in TABLE_GAP:
    _table(table, results, datasets, checkpoints, command)
  if FLAGS.tones:
    _tones(chosen, command)
  if FLAGS.perceptual_excerpts:
    records = {kind: _perceptual(kind, datasets[kind], chosen[kind]) for kind in KINDS
               if datasets[kind]}
    if records:
      _perceptual_table(records, command)
      page = listening.build(os.path.join(FLAGS.out_dir, 'listen'),
                             'Listening page: the tables\' methods on the same excerpts')
      print(f'wrote {FLAGS.out_dir}/perceptual.md and {page}')
  if FLAGS.figures:
    for kind in KINDS:
      if {'network', 'interp', 'lpc'} <= set(chosen[kind]) and (2, kind, 'network') in raw:
        path = _figure(kind, datasets[kind], raw[(2, kind, 'network')], raw[(2, kind, 'lpc')],
                       chosen[kind])
        if path:
          print(f'wrote {path}')
  print(f'wrote {FLAGS.out_dir}/table2.md, table3.md' + (', tones.md' if FLAGS.tones else '')
        + f' in {eta.format_seconds(time.monotonic() - started)}')
  return 0


if __name__ == '__main__':
  app.run(main)
