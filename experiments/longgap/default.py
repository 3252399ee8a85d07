"""Measures which long-gap method `inpaint` should use by default, per gap length
(evaluation/long_gap_choice.py) -> results/longgap_default.md.

  python -m experiments.longgap.default --data_dir=data/demo-music --excerpts=16
"""

import os
import shlex
import sys

from absl import app, flags

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from audio_context_encoder.common import atomic, entry  # noqa: E402
from audio_context_encoder.common.errors import DatasetError, UserError, WriteError  # noqa: E402
from audio_context_encoder.evaluation import long_gap_choice  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('data_dir', 'data/demo-music', 'a built music dataset (its test tracks)')
flags.DEFINE_integer('excerpts', 16, 'excerpts per gap length')
flags.DEFINE_list('gap_ms', ['100', '200', '300', '500', '1000'], 'gap lengths to measure (ms)')
flags.DEFINE_list('candidates', ['longgap-lpc', 'similarity', 'longgap-interp', 'longgap-spec'],
                  'long-gap methods to compare')
flags.DEFINE_list('clip_sets', ['data/longgap-sc09-standin', 'data/longgap-esc50-standin'],
                  'built long-gap clip folders to measure too (their fixed test gap)')
flags.DEFINE_integer('clips', 40, 'test clips per clip set')
flags.DEFINE_string('out', 'results/longgap_default.md', 'the markdown table')


def run() -> int:
  command = ' '.join(['python -m experiments.longgap.default'] + [shlex.quote(a) for a in sys.argv[1:]])
  atomic.check_writable(FLAGS.out)
  lengths = [float(x) for x in FLAGS.gap_ms]
  records, text = {}, long_gap_choice.markdown({}, FLAGS.data_dir, command)
  for ms in lengths:  # the table so far is written after each length
    records[ms] = long_gap_choice.measure(FLAGS.data_dir, ms, FLAGS.candidates, FLAGS.excerpts)
    text = long_gap_choice.markdown(records, FLAGS.data_dir, command)
    atomic.write_text(FLAGS.out, text)
  clip_records = {}
  for folder in FLAGS.clip_sets:
    record = long_gap_choice.measure_clips(folder, FLAGS.candidates, FLAGS.clips)
    clip_records[os.path.basename(os.path.normpath(folder))] = record
    atomic.write_text(FLAGS.out, text + long_gap_choice.clip_markdown(clip_records))
  print(text + (long_gap_choice.clip_markdown(clip_records) if clip_records else ''))
  for ms, record in records.items():
    print(f'{ms:g} ms: {long_gap_choice.best(record)}')
  return 0


def flag_problem():
  if FLAGS.excerpts < 2:
    return f'--excerpts={FLAGS.excerpts}: must be 2 or more (a paired difference needs two)'
  try:
    if any(float(x) <= 64 for x in FLAGS.gap_ms):
      return '--gap_ms: long gaps are longer than 64 ms'
  except ValueError:
    return f'--gap_ms={",".join(FLAGS.gap_ms)}: give numbers of milliseconds'
  return None


def main(argv):
  del argv
  return entry.run_main(flag_problem(), run, (UserError, DatasetError, WriteError), 'nothing was written')


if __name__ == '__main__':
  app.run(main)
