"""Builds a long-gap dataset folder (longgap_dataset layout) from a real or stand-in source.

  python -m tfrecords_tools.longgap_build --dataset=sc09-standin --dest=data/longgap-sc09-standin
  python -m tfrecords_tools.longgap_build --dataset=sc09 --dest=data/longgap-sc09  # downloads

Sources: sc09, esc50 (downloads, tfrecords_tools/longgap_sources.py) and sc09-standin,
esc50-standin (Debian packages, tfrecords_tools/longgap_standins.py). docs/longgap.md.
"""

import os
import pathlib
import sys
import time

from absl import app, flags

from audio_context_encoder.data import clip_dataset
from audio_context_encoder.common import atomic
from audio_context_encoder.common import errors
from audio_context_encoder.longgap import config
from tfrecords_tools import download, longgap_dataset, longgap_sources, longgap_standins, sources  # noqa: F401 (registers)

flags.DEFINE_enum('dataset', None, sources.names(sources.CLIPS),
                  'Where the clips come from (the clip sources of tfrecords_tools/sources.py).')
flags.DEFINE_string('dest', None, 'Output folder.')
flags.DEFINE_string('downloads', 'data/downloads', 'Downloads and unpacked packages (reused).')
flags.DEFINE_string('esc50_sha256', None, 'Pin the ESC-50 archive to this SHA-256 (none is published).')
flags.DEFINE_bool('rebuild', False, 'Rebuild a folder that is already complete.')
FLAGS = flags.FLAGS  # names unused by tfrecords_tools.build: tests import several at once


def items_and_licences(name: str, download_dir: str):
  """(items, protocol, licences, strict) of the registered clip source `name`."""
  source = sources.get(name, sources.CLIPS)
  request = sources.Request(pathlib.Path(download_dir), seed=0, sha256=FLAGS.esc50_sha256)
  root = source.fetch(request)
  return (source.items(root, request), config.get(source.protocol), source.licence_files(root),
          source.strict)


def main(argv):
  del argv
  if not FLAGS.dataset or not FLAGS.dest:
    print('error: give --dataset and --dest', file=sys.stderr)
    return 2
  t0 = time.time()
  dest = os.path.expanduser(FLAGS.dest)
  if os.path.exists(dest) and not os.path.isdir(dest):
    print(f'error: --dest={FLAGS.dest}: is a file, not a folder', file=sys.stderr)
    return 2
  try:
    done = clip_dataset.read_settings(dest) if not FLAGS.rebuild else None
  except longgap_dataset.DatasetError as e:
    done = None
    if os.path.exists(os.path.join(dest, 'settings.json')):
      print(f'note: {e}; building it again')
  if done is not None and done.get('source') == FLAGS.dataset and clip_dataset.is_complete(dest):
    print(longgap_dataset.counts_table(done, dest))
    print(f'{dest}: already built (--rebuild to build again)')
    return 0
  skipped = []
  try:
    with errors.sigterm_raises():
      items, protocol, licences, strict = items_and_licences(FLAGS.dataset, FLAGS.downloads)
      from tqdm import tqdm
      with tqdm(total=len(items), desc=FLAGS.dataset, file=sys.stderr) as bar:
        counts = longgap_dataset.write(items, dest, protocol, FLAGS.dataset, licences,
                                       progress=lambda: bar.update(1), strict=strict,
                                       skipped=skipped)
  except (longgap_dataset.DatasetError, download.DownloadError, atomic.WriteError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 1
  except (KeyboardInterrupt, errors.Terminated) as e:
    print('interrupted' if isinstance(e, KeyboardInterrupt) else 'terminated (SIGTERM)',
          '; downloads are kept, the folder is written only when complete: run the same command',
          sep='', file=sys.stderr)
    return 130 if isinstance(e, KeyboardInterrupt) else 143
  for message in skipped:
    print(f'skipped: {message}')
  print(longgap_dataset.counts_table(clip_dataset.read_settings(dest), dest))
  print(f'{sum(c["clips"] for c in counts.values())} clips in {time.time() - t0:.0f} s'
        + (f', {len(skipped)} file(s) skipped (named above)' if skipped else ''))
  return 0


if __name__ == '__main__':
  app.run(main)
