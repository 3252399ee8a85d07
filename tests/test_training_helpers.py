"""Tiny in-process datasets and a training worker for the training tests (no data/ needed).

Run as a script it trains in its own process (virtual CPU devices must be configured before
TensorFlow initialises; the kill/resume test needs a process to kill):
  python tests/test_training_helpers.py '{"run_dir": ..., "steps": ..., ...}'
"""

import dataclasses
import json
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def examples(cfg, n: int):
  """(context [n, 16, 257, 4], target [n, 11, 257, C]) numpy arrays via features.py."""
  from audio_context_encoder.context_encoder import features
  from audio_context_encoder.context_encoder.overfit import gspi_segments
  seg = gspi_segments(n)
  context = features.context_features(seg, cfg.signal).numpy()
  if cfg.network.output == 'complex':
    target = features.gap_complex(seg, cfg.signal).numpy()
  else:
    target = features.gap_magnitude(seg, cfg.signal).numpy()[..., None]
  return context, target


def dataset_fns(context, target, batch_size: int, shuffle: bool = True):
  """(train_fn(seed) -> shuffled infinite batches, valid_fn() -> the examples once, in order)."""
  import tensorflow as tf

  def train_fn(seed):
    ds = tf.data.Dataset.from_tensor_slices((context, target))
    if shuffle:
      ds = ds.shuffle(len(context), seed=seed)
    return ds.repeat().batch(batch_size, drop_remainder=True)

  def valid_fn():
    return tf.data.Dataset.from_tensor_slices((context, target)).batch(batch_size)

  return train_fn, valid_fn


def small_config(batch_size: int, validation_interval: int, **train_changes):
  from audio_context_encoder import config
  cfg = config.get('small')
  return cfg.replace(train=dataclasses.replace(cfg.train, batch_size=batch_size,
                                               validation_interval=validation_interval,
                                               **train_changes))


def main(argv):
  args = json.loads(argv[1])
  if args.get('virtual_cpus'):
    import tensorflow as tf
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * args['virtual_cpus'])
  from audio_context_encoder.context_encoder import training
  from audio_context_encoder.training import trainer as trainer_lib
  trainer_lib.make_strategy(args.get('strategy', 'default'))  # before TensorFlow runs anything
  cfg = small_config(args['batch_size'], args['validation_interval'], steps=args['steps'],
                     lr_drop_step=args.get('lr_drop_step', 0))
  context, target = examples(cfg, args.get('examples', 8))
  train_fn, valid_fn = dataset_fns(context, target, cfg.train.batch_size, args.get('shuffle', True))
  options = training.RunOptions(checkpoint_every=args['checkpoint_every'], log_every=1,
                                strategy=args.get('strategy', 'default'), progress=False,
                                image_examples=2, stop_at_step=args.get('stop_at_step', 0))
  trainer = training.Trainer(cfg, args['run_dir'], options)
  info = {'resumed_from': trainer.resumed_from, 'replicas': trainer.replicas}
  if args.get('report_first_batch'):  # whether it is the chief; its replicas' first-step targets
    import numpy as np
    info['chief'] = trainer.chief
    dist = trainer.strategy.experimental_distribute_dataset(train_fn(cfg.train.seed + trainer.resumed_from))
    local = trainer.strategy.experimental_local_results(next(iter(dist))[1])
    info['first_batch'] = sorted(float(np.sum(t)) for part in local for t in part.numpy())
  print(json.dumps(info), flush=True)
  try:
    result = trainer.fit(train_fn, valid_fn)
  except training.UserError as e:  # as experiments/train.py: one line
    sys.exit(f'error: {e}')
  if args.get('weights_out') and trainer.chief:  # the final weights, to compare two runs
    import numpy as np
    np.savez(args['weights_out'], *trainer.model.get_weights())
  print(json.dumps(result), flush=True)


if __name__ == '__main__':
  main(sys.argv)
