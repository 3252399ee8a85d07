"""Sharded evaluation (scale-out): `experiments.tables --shard=i --num_shards=N` scores its share
of each column's segments, `--merge` writes the tables, and they equal one run's exactly."""

import pathlib

import numpy as np
import pytest

from audio_context_encoder.evaluation import evaluation
from tests.test_faults_tables import dataset, run_tables


def test_shards_partition_the_selection():
  whole = evaluation.shard_selection(100, 30)
  parts = [evaluation.shard_selection(100, 30, (i, 3)) for i in range(3)]
  np.testing.assert_array_equal(np.sort(np.concatenate(parts)), whole)
  assert sum(len(p) for p in parts) == 30 and len({len(p) for p in parts}) == 1
  every = [evaluation.shard_selection(10, 0, (i, 4)) for i in range(4)]  # no max_segments: all
  np.testing.assert_array_equal(np.sort(np.concatenate(every)), np.arange(10))
  assert evaluation.shard_selection(10, 0) is None
  with pytest.raises(ValueError, match='shard 3 of 3'):
    evaluation.shard_selection(10, 0, (3, 3))


def table_lines(folder: pathlib.Path, name: str):
  """The table's lines without what differs between any two runs (times, date, command)."""
  return [line for line in (folder / name).read_text().splitlines()
          if not line.startswith(('| Time per gap', '- date:', '- command:'))]


@pytest.mark.slow  # subprocesses
def test_three_shards_merged_equal_one_run(tmp_path):
  data = dataset(tmp_path, 'A', 5, seconds=1.5)
  common = (f'--music_data={data}', '--max_segments=40', '--batch_size=8')
  one = run_tables(*common, f'--out_dir={tmp_path / "one"}')
  assert one.returncode == 0, one.stderr[-2000:]
  sharded = tmp_path / 'sharded'
  early = run_tables(*common, f'--out_dir={sharded}', '--num_shards=3', '--merge')
  assert early.returncode == 2 and 'shard 0 of 3' in early.stderr and 'run it with --shard=0' in early.stderr
  for i in range(3):
    part = run_tables(*common, f'--out_dir={sharded}', f'--shard={i}', '--num_shards=3')
    assert part.returncode == 0, part.stderr[-2000:]
    assert f'shard {i} of 3 done' in part.stdout and not (sharded / 'table2.md').exists()
  merged = run_tables(*common, f'--out_dir={sharded}', '--num_shards=3', '--merge')
  assert merged.returncode == 0, merged.stderr[-2000:]
  assert merged.stdout.count('3 shards merged') == 4  # interp and LPC, 64 and 48 ms
  for name in ('table2.md', 'table3.md'):
    assert table_lines(sharded, name) == table_lines(tmp_path / 'one', name)
  # The per-segment values, not only their means: the same arrays in the same order.
  for name in ('music_lpc_64ms_test_spread40', 'music_interp_48ms_test_spread40'):
    whole = np.load(tmp_path / 'one' / 'per_segment' / f'{name}.npz')
    parts = [dict(np.load(sharded / 'per_segment' / f'{name}_shard{i}of3.npz')) for i in range(3)]
    joined = evaluation.merge_shards([{k: v for k, v in p.items() if k != 'key'} for p in parts])
    for key in ('snr_ms', 'snr_td', 'index', 'offset', 'track_id'):
      np.testing.assert_array_equal(joined[key], whole[key])
  bad = run_tables(*common, f'--out_dir={sharded}', '--shard=3', '--num_shards=3')
  assert bad.returncode == 2 and '--shard=3: must be 0 .. 2' in bad.stderr
