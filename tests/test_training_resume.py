"""A training process killed with SIGKILL resumes exactly; a 2-device MirroredStrategy run too.

Each run is a separate process (tests/test_training_helpers.py): one to kill, and virtual CPU
devices must be configured before TensorFlow initialises.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from audio_context_encoder.training.trainer import loopback_cluster
from tests.test_training import read_events

pytestmark = pytest.mark.slow  # each test starts TensorFlow processes

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_training_helpers.py')


def start(args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  return subprocess.Popen([sys.executable, HELPER, json.dumps(args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


def finish(proc, timeout=120):
  out, err = proc.communicate(timeout=timeout)
  assert proc.returncode == 0, err[-3000:]
  lines = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
  return lines[0], lines[-1]


def curve(run_dir, tag):
  """{event file: {step: value}} for one training scalar (one file per process)."""
  folder = os.path.join(run_dir, 'train')
  out = {}
  for name in sorted(os.listdir(folder)):
    sub = os.path.join(folder, name)
    events = read_events_file(sub)
    out[name] = {s: float(v) for s, _, v in events.get(tag, [])}
  return out


def read_events_file(path):
  with tempfile.TemporaryDirectory() as d:
    shutil.copy(path, d)
    return read_events(d)


def test_sigkill_then_resume_continues_step_phase_and_loss(tmp_path):
  run_dir = str(tmp_path / 'run')
  # One batch = all 4 examples, so the data order cannot matter after the documented reshuffle.
  args = dict(run_dir=run_dir, steps=40, batch_size=4, examples=4, validation_interval=1000,
              checkpoint_every=4, lr_drop_step=6)
  proc = start(args)
  ckpt = os.path.join(run_dir, 'checkpoints', 'ckpt-12.index')
  deadline = time.time() + 120
  while not os.path.exists(ckpt):
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    assert time.time() < deadline, 'no checkpoint at step 12 within 120 s'
    time.sleep(0.02)
  # Let it log a few steps past the checkpoint, then kill it without warning.
  while max(next(iter(curve(run_dir, 'loss/reconstruction').values()), {0: 0})) < 14:
    assert proc.poll() is None and time.time() < deadline, 'the run stopped logging'
    time.sleep(0.1)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  killed = curve(run_dir, 'loss/reconstruction')
  (first_file, before), = killed.items()
  last_before = max(before)
  assert last_before >= 13, f'killed too early: logged up to step {last_before}'
  assert last_before < 40

  args['stop_at_step'] = last_before + 3  # the same run (--steps=40), stopped early
  info, result = finish(start(args))
  assert info['resumed_from'] == 12
  assert result['step'] == last_before + 3 and result['phase'] == 1
  after = {k: v for k, v in curve(run_dir, 'loss/reconstruction').items() if k != first_file}
  (after,) = after.values()
  assert min(after) == 13  # the step counter continues from the checkpoint
  lr = {k: v for k, v in curve(run_dir, 'learning_rate').items() if k != first_file}
  assert np.allclose(list(next(iter(lr.values())).values()), 1e-4)  # still in the second phase
  # The replayed steps retrace the killed run's curve: same state, same batches.
  replayed = sorted(set(before) & set(after))
  assert len(replayed) >= 1
  a = np.array([before[s] for s in replayed])
  b = np.array([after[s] for s in replayed])
  np.testing.assert_allclose(b, a, rtol=1e-3)
  # ...while the curve itself moves far more than that between consecutive steps.
  steps = sorted(before)
  jumps = np.abs(np.diff([before[s] for s in steps]))
  assert np.median(jumps) > 10 * np.max(np.abs(b - a))


def test_mirrored_two_virtual_cpus_trains_and_resumes(tmp_path):
  run_dir = str(tmp_path / 'mirrored')
  args = dict(run_dir=run_dir, steps=5, stop_at_step=3, batch_size=4, examples=4,
              validation_interval=3, checkpoint_every=2, strategy='mirrored', virtual_cpus=2)
  info, result = finish(start(args))
  assert info == {'resumed_from': 0, 'replicas': 2}
  assert result['step'] == 3 and np.isfinite(result['best_valid_nmse'])
  args['stop_at_step'] = 0
  info, result = finish(start(args))
  assert info == {'resumed_from': 3, 'replicas': 2}
  assert result['step'] == 5
  losses = curve(run_dir, 'loss/total')
  steps = sorted(s for c in losses.values() for s in c)
  assert steps == [1, 2, 3, 4, 5]
  assert all(np.isfinite(v) for c in losses.values() for v in c.values())


def test_multi_worker_strategy_without_tf_config_trains(tmp_path):
  """MultiWorkerMirroredStrategy with no TF_CONFIG is one local worker: the same code path."""
  run_dir = str(tmp_path / 'multi')
  args = dict(run_dir=run_dir, steps=2, batch_size=2, examples=2, validation_interval=2,
              checkpoint_every=2, strategy='multi_worker')
  info, result = finish(start(args))
  assert info == {'resumed_from': 0, 'replicas': 1}
  assert result['step'] == 2
  assert os.path.isfile(os.path.join(run_dir, 'checkpoints', 'ckpt-2.index'))
  assert os.path.isfile(os.path.join(run_dir, 'best.keras'))


def start_worker(args, cluster, index):
  tf_config = {'cluster': {'worker': cluster}, 'task': {'type': 'worker', 'index': index}}
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='',
             TF_CONFIG=json.dumps(tf_config))
  return subprocess.Popen([sys.executable, HELPER, json.dumps(args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)


def test_two_workers_on_loopback_train_like_one_process(tmp_path):
  """MultiWorkerMirroredStrategy with two worker processes on 127.0.0.1 (TF_CONFIG) against one
  process with the same global batch and seed:
  - each worker's replica gets its own half of every global batch (the in-memory dataset has no
    files, so tf.data's AUTO shard policy is DATA: each worker reads the whole dataset and keeps
    its share of each batch; from TFRecord shards it is FILE, one shard file per worker);
  - the first step's loss is the one process's (the same initial weights, the same examples, batch
    statistics synchronized over the replicas), and the curves agree after it. The weights are not
    compared: Adam's first steps move each weight by about lr x sign(gradient), so the all-reduce's
    rounding (1e-7) flips the sign of near-zero gradients and moves those weights by 2e-3;
  - only the chief (worker 0) writes models, best.json, TensorBoard events and checkpoints."""
  base = dict(steps=3, batch_size=4, examples=8, validation_interval=3, checkpoint_every=3,
              report_first_batch=True)
  one_dir = str(tmp_path / 'one')
  one_info, one = finish(start(dict(base, run_dir=one_dir)))
  cluster = loopback_cluster(2)
  dirs = [str(tmp_path / f'worker{i}') for i in range(2)]
  procs = [start_worker(dict(base, run_dir=d, strategy='multi_worker'), cluster, i)
           for i, d in enumerate(dirs)]
  (info0, r0), (info1, r1) = [finish(p, timeout=240) for p in procs]
  assert (info0['replicas'], info0['chief'], info1['chief']) == (2, True, False)
  assert r0['step'] == r1['step'] == one['step'] == 3
  halves = [info0['first_batch'], info1['first_batch']]
  assert len(halves[0]) == len(halves[1]) == 2 and not set(halves[0]) & set(halves[1])
  np.testing.assert_allclose(sorted(halves[0] + halves[1]), one_info['first_batch'], rtol=1e-6)
  [two_curve] = curve(dirs[0], 'loss/total').values()
  [one_curve] = curve(one_dir, 'loss/total').values()
  assert sorted(two_curve) == sorted(one_curve) == [1, 2, 3]
  assert two_curve[1] == pytest.approx(one_curve[1], rel=1e-5)
  for step in (2, 3):
    assert two_curve[step] == pytest.approx(one_curve[step], rel=0.05)
  for name in ('last.keras', 'best.keras', 'best.json', 'checkpoints', 'train', 'valid'):
    assert os.path.exists(os.path.join(dirs[0], name)), name
    assert not os.path.exists(os.path.join(dirs[1], name)), f'worker 1 wrote {name}'
  assert os.listdir(os.path.join(dirs[1], '.worker-1'))  # its throw-away checkpoints


def test_records_are_split_by_file_when_every_worker_gets_one(monkeypatch):
  import tensorflow as tf
  from audio_context_encoder.context_encoder import reader
  policy = tf.data.experimental.AutoShardPolicy
  assert reader.shard_policy(4, workers=2) == policy.FILE
  assert reader.shard_policy(1, workers=2) == policy.DATA  # fewer shard files than workers
  monkeypatch.setenv('TF_CONFIG', json.dumps({'cluster': {'chief': ['a:1'], 'worker': ['b:1', 'c:1']},
                                              'task': {'type': 'chief', 'index': 0}}))
  assert reader.cluster_workers() == 3 and reader.shard_policy(2) == policy.DATA
  monkeypatch.delenv('TF_CONFIG')
  assert reader.cluster_workers() == 1


def test_a_killed_worker_ends_the_run_in_one_line_and_both_resume(tmp_path):
  """SIGKILL of one of two workers mid-run: the survivor stops within a bounded time with one line
  (no traceback, no hang: TensorFlow's heartbeat notices the lost task), the same two commands
  resume from their last common checkpoint, and they end with the weights of an uninterrupted
  two-worker run to the same step. The data is one unshuffled global batch, the same at every
  step: a resumed context-encoder run reshuffles its data with seed + step (as on one machine),
  so with shuffled data the steps after a resume see other batches than an uninterrupted run's."""
  base = dict(steps=400, batch_size=4, examples=4, shuffle=False, validation_interval=1000,
              checkpoint_every=2)
  dirs = [str(tmp_path / f'worker{i}') for i in range(2)]
  cluster = loopback_cluster(2)
  procs = [start_worker(dict(base, run_dir=d, strategy='multi_worker'), cluster, i)
           for i, d in enumerate(dirs)]
  deadline = time.time() + 180
  while not os.path.exists(os.path.join(dirs[0], 'checkpoints', 'ckpt-4.index')):
    assert time.time() < deadline and procs[0].poll() is None, 'the run did not reach step 4'
    time.sleep(0.1)
  procs[1].kill()
  t0 = time.time()
  out, err = procs[0].communicate(timeout=120)
  procs[1].communicate()
  assert procs[0].returncode == 1, err[-2000:]
  last = err.strip().splitlines()[-1]
  assert time.time() - t0 < 120 and 'Traceback' not in err.split('error:')[-1]
  assert last.startswith('error: ') and 'a worker of this multi-worker run was lost' in last
  assert 'start every worker again with the same command to resume' in last
  steps = [int(os.path.basename(p).split('-')[1].split('.')[0]) for p in
           os.listdir(os.path.join(dirs[0], 'checkpoints')) if p.endswith('.index')
           for p in [os.path.join(dirs[0], 'checkpoints', p)]]
  cluster = loopback_cluster(2)
  stop = max(steps) + 2
  resumed = str(tmp_path / 'resumed.npz')
  again = [start_worker(dict(base, run_dir=d, strategy='multi_worker', stop_at_step=stop,
                             weights_out=resumed), cluster, i) for i, d in enumerate(dirs)]
  (info0, r0), (info1, r1) = [finish(p, timeout=240) for p in again]
  assert info0['resumed_from'] == info1['resumed_from'] == max(steps) >= 4
  assert r0['step'] == r1['step'] == stop

  cluster = loopback_cluster(2)
  whole = str(tmp_path / 'uninterrupted.npz')
  once = [start_worker(dict(base, run_dir=str(tmp_path / f'whole{i}'), strategy='multi_worker',
                            stop_at_step=stop, weights_out=whole), cluster, i) for i in range(2)]
  (info0, r0), _ = [finish(p, timeout=240) for p in once]
  assert info0['resumed_from'] == 0 and r0['step'] == stop
  with np.load(resumed) as a, np.load(whole) as b:
    assert a.files == b.files and len(a.files) > 10
    for k in a.files:  # bit-equal here; the tolerance allows for another machine's rounding
      np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=1e-7, err_msg=k)
