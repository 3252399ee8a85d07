"""What a training run's folder tells about it: TensorBoard scalars, training time, the commit.

Shared by the ship scripts (experiments/ship_model.py, longgap/shipping.py); no flags, so any entry point
and the tests can import it.
"""

import subprocess

import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def scalar_series(event_dir, tags):
  """{tag: [(step, wall_time, value)]} of scalars written by tf.summary.scalar, from one read
  of the folder's events ([] for a tag never written)."""
  acc = EventAccumulator(str(event_dir), size_guidance={'tensors': 0})
  acc.Reload()
  written = acc.Tags()['tensors']
  return {tag: [(e.step, e.wall_time, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
          if tag in written else [] for tag in tags}


def scalars(event_dir, tag):
  """[(step, wall_time, value)] of one scalar (scalar_series)."""
  return scalar_series(event_dir, [tag])[tag]


def training_seconds(wall_times, pause_s):
  """Wall time spent training: the sum of the spans between events, pauses left out."""
  t = sorted(wall_times)
  return float(sum(b - a for a, b in zip(t, t[1:]) if b - a <= pause_s))


def git_commit():
  try:
    return subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True,
                          check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    return 'unknown'
