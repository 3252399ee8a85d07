"""Training speed and model FLOPs utilisation (MFU), measured in one run.

  * model FLOPs counted from the layer shapes: 2 x MACs of every convolution (output positions
    x kernel volume), transposed convolution (input positions x kernel volume) and the FCL;
    a training step = forward + gradient w.r.t. weights + gradient w.r.t. inputs (3 x forward,
    minus the input gradient of conv 1). Batch norm, ReLU and Adam are not counted.
  * peak: a 4096 x 4096 float32 matmul (and bfloat16) in the same process, same threads.
  * examples/s of the library's own train step (training.Trainer) for `paper` and `small`,
    float32 and mixed_bfloat16, on random inputs; the tf.data feature pipeline's examples/s
    (features.py from raw audio, the work the dataset reader adds to reading records) and the
    reader's own rate on data/demo-music when it is built.
Env BENCH_BATCH (default 32) sets the batch; BENCH_STEPS (default 3) the timed steps.
"""

import os
import tempfile
import time

import numpy as np
import tensorflow as tf
import keras

from audio_context_encoder import config
from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import reader
from audio_context_encoder.context_encoder import training
from audio_context_encoder.context_encoder import model as model_lib

BATCH = int(os.environ.get('BENCH_BATCH', 32))
STEPS = int(os.environ.get('BENCH_STEPS', 3))


def forward_macs(model) -> dict:
  """MACs per example of every weighted layer, from its shapes."""
  out = {}
  for layer in model.layers:
    if not hasattr(layer, 'kernel'):
      continue
    k = int(np.prod(layer.kernel.shape))
    if isinstance(layer, keras.layers.Conv2DTranspose):
      out[layer.name] = int(np.prod(layer.input.shape[1:3])) * k
    elif isinstance(layer, keras.layers.Conv2D):
      out[layer.name] = int(np.prod(layer.output.shape[1:3])) * k
    else:  # Dense
      out[layer.name] = k
  return out


def train_flops(model) -> float:
  macs = forward_macs(model)
  first = next(iter(macs))
  return 2.0 * (3 * sum(macs.values()) - macs[first])


def matmul_gflops(dtype, n=4096, repeats=5) -> float:
  a = tf.random.normal((n, n), dtype=tf.float32)
  b = tf.random.normal((n, n), dtype=tf.float32)
  a, b = tf.cast(a, dtype), tf.cast(b, dtype)
  f = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
  f().numpy()
  best = float('inf')
  for _ in range(repeats):
    t0 = time.perf_counter()
    f().numpy()
    best = min(best, time.perf_counter() - t0)
  return 2 * n ** 3 / best / 1e9


def train_rate(preset: str, precision: str) -> float:
  cfg = config.get(preset)
  cfg = cfg.replace(train=cfg.train.__class__(**{**cfg.train.__dict__, 'batch_size': BATCH}))
  with tempfile.TemporaryDirectory() as run_dir:
    trainer = training.Trainer(cfg, run_dir, training.RunOptions(precision=precision, progress=False))
    rng = np.random.default_rng(0)
    batch = (tf.constant(rng.standard_normal((BATCH, 16, 257, 4)), tf.float32),
             tf.constant(np.abs(rng.standard_normal((BATCH, 11, 257, 1))), tf.float32))
    for _ in range(2):  # trace + warm up
      trainer._train_step(batch)['loss/total'].numpy()
    t0 = time.perf_counter()
    for _ in range(STEPS):
      trainer._train_step(batch)['loss/total'].numpy()
    dt = (time.perf_counter() - t0) / STEPS
  keras.mixed_precision.set_global_policy('float32')
  return BATCH / dt


def feature_pipeline_rate(n=2048) -> float:
  sig = config.signal_config(64)
  audio = np.random.default_rng(0).standard_normal((n, sig.L)).astype(np.float32)
  ds = (tf.data.Dataset.from_tensor_slices(audio).batch(BATCH)
        .map(lambda x: (features.context_features(x, sig), features.gap_magnitude(x, sig)),
             num_parallel_calls=tf.data.AUTOTUNE).prefetch(2))
  for _ in ds.take(1):
    pass
  t0 = time.perf_counter()
  count = sum(int(c.shape[0]) for c, _ in ds)
  return count / (time.perf_counter() - t0)


def reader_rate(data_dir='data/demo-music', batches=40) -> float:
  """examples/s of audio_context_encoder.context_encoder.reader.training_dataset (shuffled, repeated), after warm-up."""
  ds = reader.training_dataset(data_dir, 'train', config.get('paper'), BATCH)
  it = iter(ds)
  for _ in range(5):  # fills the shuffle buffer's first part and starts the prefetch
    next(it)
  t0 = time.perf_counter()
  for _ in range(batches):
    next(it)
  return batches * BATCH / (time.perf_counter() - t0)


def main():
  print(f'CPU threads: {len(os.sched_getaffinity(0))}; TF {tf.__version__}; batch {BATCH}, '
        f'{STEPS} timed steps after 2 warm-up steps')
  peak32 = matmul_gflops(tf.float32)
  peak16 = matmul_gflops(tf.bfloat16)
  print(f'4096^3 matmul: float32 {peak32:.1f} GFLOP/s, bfloat16 {peak16:.1f} GFLOP/s')
  for preset in ('paper', 'small'):
    m = model_lib.build_model(config.get(preset))
    macs = forward_macs(m)
    flops = train_flops(m)
    print(f'{preset}: forward {sum(macs.values()) / 1e9:.3f} GMAC/example, training step '
          f'{flops / 1e9:.2f} GFLOP/example; largest layers: ' + ', '.join(
              f'{k} {v / 1e9:.2f}' for k, v in sorted(macs.items(), key=lambda kv: -kv[1])[:3]))
    for precision, peak in (('float32', peak32), ('mixed_bfloat16', peak16)):
      rate = train_rate(preset, precision)
      achieved = rate * flops / 1e9
      print(f'  {preset:5s} {precision:14s} {rate:7.2f} examples/s = {achieved:7.1f} GFLOP/s; '
            f'MFU {100 * achieved / peak32:5.1f} % of the float32 matmul'
            + (f', {100 * achieved / peak:5.1f} % of the bfloat16 matmul'
               if precision != 'float32' else ''), flush=True)
  print(f'feature pipeline (tf.data, features.py from raw audio): '
        f'{feature_pipeline_rate():.0f} examples/s')
  if os.path.isfile('data/demo-music/manifest.json'):
    print(f'dataset reader (audio_context_encoder.context_encoder.reader, data/demo-music, shuffled): '
          f'{reader_rate():.0f} examples/s')
  else:
    print('dataset reader: data/demo-music not built (make demo-data), not measured')


if __name__ == '__main__':
  main()
