"""What a two-worker run costs here beside one worker, measured in one run (docs/scaling.md).

The `small` context encoder's train step of the one training loop (training/trainer.py) on random
inputs of the paper's shapes, global batch BENCH_BATCH (default 32): one process, then two worker
processes on 127.0.0.1 (MultiWorkerMirroredStrategy, TF_CONFIG, the same global batch: each
replica computes half of it and the gradients are all-reduced over gRPC). Each process times
BENCH_STEPS (default 20) steps after 3 warm-up steps. Prints examples/s of the whole run and per
worker. On this 2-core machine the two workers share the cores the one process had, so the figure
is the all-reduce's overhead, not a speed-up; on two machines each worker has its own.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

BATCH = int(os.environ.get('BENCH_BATCH', 32))
STEPS = int(os.environ.get('BENCH_STEPS', 20))
WARMUP = 3


def worker(run_dir: str) -> None:
  """One process of the run: prints {'seconds': ..., 'steps': ...} of its timed steps."""
  from audio_context_encoder.training import trainer as trainer_lib
  strategy = 'multi_worker' if os.environ.get('TF_CONFIG') else 'default'
  trainer_lib.make_strategy(strategy)  # before TensorFlow runs anything
  import dataclasses

  import numpy as np
  import tensorflow as tf

  from audio_context_encoder import config
  from audio_context_encoder.context_encoder import training
  cfg = config.get('small')
  cfg = cfg.replace(train=dataclasses.replace(cfg.train, batch_size=BATCH))
  sig = cfg.signal
  rng = np.random.default_rng(0)
  context = rng.standard_normal((BATCH, sig.context_frames, sig.bins, 4)).astype(np.float32)
  target = np.abs(rng.standard_normal((BATCH, sig.gap_frames, sig.bins, 1))).astype(np.float32)
  trainer = training.Trainer(cfg, run_dir, training.RunOptions(progress=False, strategy=strategy))
  dataset = tf.data.Dataset.from_tensors((context, target)).repeat()
  iterator = iter(trainer.strategy.experimental_distribute_dataset(dataset))
  for _ in range(WARMUP):
    trainer._train_step(next(iterator))
  t0 = time.perf_counter()
  for _ in range(STEPS):
    stats = trainer._train_step(next(iterator))
  float(stats['loss/total'])  # wait for the last step
  print(json.dumps({'seconds': time.perf_counter() - t0, 'steps': STEPS,
                    'replicas': trainer.replicas}), flush=True)


def run(envs, folder) -> list:
  procs = [subprocess.Popen([sys.executable, '-m', 'benchmarks.bench_multi_worker', '--worker',
                             os.path.join(folder, f'run{i}')], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True) for i, env in enumerate(envs)]
  out = []
  for p in procs:
    stdout, stderr = p.communicate(timeout=600)
    if p.returncode:
      raise RuntimeError(stderr[-2000:])
    out.append(json.loads([line for line in stdout.splitlines() if line.startswith('{')][-1]))
  return out


def main():
  base = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  base.pop('TF_CONFIG', None)
  with tempfile.TemporaryDirectory() as folder:
    [one] = run([base], os.path.join(folder, 'one'))
    from audio_context_encoder.training.trainer import loopback_cluster  # TensorFlow: here only
    cluster = loopback_cluster(2)
    envs = [dict(base, TF_CONFIG=json.dumps({'cluster': {'worker': cluster},
                                            'task': {'type': 'worker', 'index': i}}))
            for i in range(2)]
    two = run(envs, os.path.join(folder, 'two'))
  rate_one = STEPS * BATCH / one['seconds']
  rate_two = STEPS * BATCH / max(r['seconds'] for r in two)
  print(f'small network, global batch {BATCH}, {STEPS} timed steps, {os.cpu_count()} cores')
  print(f'one process:            {rate_one:7.1f} examples/s')
  print(f'two workers (loopback): {rate_two:7.1f} examples/s in all, {rate_two / 2:6.1f} per worker '
        f'({rate_two / rate_one:.2f}x the one process; replicas {two[0]["replicas"]})')


if __name__ == '__main__':
  if len(sys.argv) > 2 and sys.argv[1] == '--worker':
    worker(sys.argv[2])
  else:
    main()
