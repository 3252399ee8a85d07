"""Build a dataset folder of TFRecord windows (paper §3.2). Thin absl entry point.

  python -m tfrecords_tools.build --source=fma --out=data/fma-small
  python -m tfrecords_tools.build --source=nsynth --out=data/nsynth
  python -m tfrecords_tools.build --source=folder --input=~/music --out=data/my-music
  python -m tfrecords_tools.build --source=demo-music --out=data/demo-music
  python -m tfrecords_tools.build --source=demo-instruments --out=data/demo-instruments
  python -m tfrecords_tools.build --source=fma --out=data/fma-small --runner=beam \
      --beam_runner=FlinkRunner --beam_option=--flink_master=localhost:8081

Re-running resumes: finished shards are kept, downloads continue where they stopped.
"""

import dataclasses
import os
import pathlib
import shutil
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app, flags  # noqa: E402

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.common import entry  # noqa: E402
from audio_context_encoder.config import DataConfig  # noqa: E402
from tfrecords_tools import beam_build, download, sources, table1, writer  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('source', None, 'Which audio to build from: ' + ', '.join(sources.names())
                    + ' (tfrecords_tools/sources.py), or a source of --source_module.')
flags.DEFINE_string('source_module', None, 'A module to import first that registers more sources '
                    '(sources.register; docs/extending.md), e.g. mylab.my_dataset.')
flags.DEFINE_string('out', None, 'Dataset folder to write (e.g. data/demo-music).')
flags.DEFINE_string('input', None, 'Audio folder for --source=folder.')
flags.DEFINE_string('download_dir', 'data/downloads', 'Where downloads and unpacked archives go.')
flags.DEFINE_enum('layout', 'compact', writer.LAYOUTS,
                  'compact: int16 audio only, features computed in tf.data (default); float: '
                  'float32 audio; full: float32 audio + precomputed 64 ms context and target.')
flags.DEFINE_integer('processes', 0, 'Worker processes (0 = all cores).')
flags.DEFINE_integer('tracks_per_shard', 0, 'Tracks per shard (0 = the source default).')
flags.DEFINE_integer('seed', DataConfig.split_seed, 'Seed of the split by track.')
flags.DEFINE_float('max_seconds', None, 'Keep only the central N s of each track after silence '
                   "trimming, 0 for whole tracks (default: the source's: 30 for demo-music, like an "
                   'FMA clip; none otherwise).')
flags.DEFINE_integer('max_tracks', 0, 'Use only the first N tracks of each split (0 = all).')
flags.DEFINE_boolean('download_only', False, 'Fetch and unpack, then stop.')
flags.DEFINE_enum('runner', 'local', ['local', 'beam'],
                  'local: worker processes on this machine (default); beam: an Apache Beam pipeline '
                  '(pip install -e .[beam]; tfrecords_tools/beam_build.py), the same shards.')
flags.DEFINE_enum('beam_runner', 'DirectRunner', beam_build.RUNNERS,
                  "With --runner=beam: Beam's runner (DirectRunner: this machine, --processes "
                  'workers).')
flags.DEFINE_multi_string('beam_option', [], "With --runner=beam: one of Beam's pipeline options, "
                          'repeatable, e.g. --beam_option=--flink_master=localhost:8081.')
flags.mark_flags_as_required(['source', 'out'])

def fetch_and_list(source: sources.Source, data: DataConfig):
  """(items, root of the source files); items None with --download_only."""
  request = sources.Request(pathlib.Path(FLAGS.download_dir), FLAGS.seed, data.music_split,
                            data.note_seconds, FLAGS.input)
  root = source.fetch(request)
  if FLAGS.download_only:
    return None, root
  items = source.items(root, request)
  max_seconds = source.max_seconds if FLAGS.max_seconds is None else FLAGS.max_seconds
  if max_seconds:  # 0: whole tracks
    items = [dataclasses.replace(i, max_seconds=max_seconds) for i in items]
  return items, root


def first_per_split(items, n):
  if not n:
    return items
  kept = []
  for split in ('train', 'valid', 'test'):
    kept += sorted((i for i in items if i.split == split), key=lambda i: i.track_id)[:n]
  return kept


def copy_licences(source: sources.Source, root, out):
  out = pathlib.Path(out)
  for src, name in source.licence_files(pathlib.Path(root)):
    dest = out / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
  text = source.attribution(pathlib.Path(root))
  if text:
    (out / 'ATTRIBUTION.md').write_text(text)


def flag_problem():
  """Why the flags cannot define a build (a value out of range), or None: checked before
  anything is downloaded or written."""
  for name, ok, allowed in (
      ('max_tracks', FLAGS.max_tracks >= 0, '0 (every track) or more'),
      ('max_seconds', FLAGS.max_seconds is None or FLAGS.max_seconds >= 0, '0 (whole tracks) or more'),
      ('processes', FLAGS.processes >= 0, '0 (every core) or more'),
      ('tracks_per_shard', FLAGS.tracks_per_shard >= 0, "0 (the source's) or more")):
    if not ok:
      return f'--{name}={getattr(FLAGS, name)}: must be {allowed}'
  if FLAGS.runner == 'local' and FLAGS.beam_option:
    return '--beam_option: only with --runner=beam'
  try:
    if FLAGS.source_module:
      sources.import_source_module(FLAGS.source_module)
    sources.get(FLAGS.source)
  except writer.BuildError as e:
    return f'--source={FLAGS.source}: {e}'
  return None


def main(argv):
  del argv
  return entry.run_main(flag_problem(), run, (writer.BuildError, download.DownloadError, atomic.WriteError),
                        'finished shards are kept: run the same command to resume',
                        problem_code=1, error_code=1, kill_on_sigterm=False)


def run() -> int:
  data = DataConfig(split_seed=FLAGS.seed)
  out = os.path.expanduser(FLAGS.out)
  source = sources.get(FLAGS.source)
  items, root = fetch_and_list(source, data)
  if items is None:
    print(f'downloaded and unpacked into {root}')
    return 0
  items = first_per_split(items, FLAGS.max_tracks)
  shard_writer = (beam_build.shard_writer(FLAGS.beam_runner, FLAGS.beam_option)
                  if FLAGS.runner == 'beam' else None)
  manifest = writer.build(
      items, out, FLAGS.source, FLAGS.layout, data,
      FLAGS.tracks_per_shard or source.tracks_per_shard, FLAGS.processes,
      extra_manifest={'command': ' '.join(['python -m tfrecords_tools.build'] + sys.argv[1:])},
      shard_writer=shard_writer)
  copy_licences(source, root, out)
  skipped = manifest['skipped_files']
  windows = sum(s['windows'] for s in manifest['splits'].values())
  records = sum(s['records'] for s in manifest['splits'].values())
  print(f'{out}: {records} records from {windows} windows '
        f'({windows - records} dropped by the gap-RMS filter), {len(skipped)} files skipped'
        f'{":" if skipped else ""}')
  for s in skipped:
    print(f'  {s}')
  for w in manifest.get('warnings', []):
    print(f'  warning: {w}')
  print(f'{manifest["bytes"] / 1e6:.1f} MB, {manifest["last_run"]["seconds"]:.1f} s this run '
        f'({manifest["last_run"]["shards_written"]} shards written)')
  print(table1.format_table(manifest, out))
  return 0


if __name__ == '__main__':
  app.run(main)
