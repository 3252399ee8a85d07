"""tf.data readers of a dataset folder written by tfrecords_tools.writer.

Training: (context, target) batches; the features are computed per batch in the
pipeline by audio_context_encoder.context_encoder.features (compact and float layouts), or read
from the records (full layout, 64 ms magnitude network). Evaluation: the whole
window with its margins, in file order.
"""


import json
import os
import pathlib

import tensorflow as tf

from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import network_inputs
from audio_context_encoder.config import Config, DataConfig
from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.data.manifest import read_manifest


def shard_files(data_dir, split: str) -> list:
  files = sorted(str(p) for p in pathlib.Path(data_dir).glob(f'{split}-*-of-*.tfrecord'))
  if not files:
    raise DatasetError(f'{data_dir}: no {split}-*.tfrecord shards')
  return files


def check_shards(data_dir, splits) -> None:
  """Reads the first record of every shard of `splits`: a shard that is not a TFRecord file at
  all (random bytes, another format) is named before any work (DatasetError)."""
  for split in splits:
    for path in shard_files(data_dir, split):
      try:
        for _ in tf.data.TFRecordDataset(path).take(1):
          pass
      except (tf.errors.DataLossError, tf.errors.OutOfRangeError) as e:
        raise DatasetError(f'{path}: damaged shard ({_first_line(e)}); rebuild the dataset '
                           '(re-running the build rewrites it)') from None


def damaged_shard(data_dir, splits) -> str:
  """Why a reader met a corrupted record, naming the shard: reads every shard of `splits`
  until one fails (TensorFlow's DataLossError names only an offset)."""
  for split in splits:
    for path in shard_files(data_dir, split):
      try:
        for _ in tf.data.TFRecordDataset(path, buffer_size=1 << 20):
          pass
      except tf.errors.DataLossError as e:
        return f'{path}: damaged shard ({_first_line(e)}); rebuild the dataset'
  return f'{data_dir}: a damaged record was read, but no shard of {", ".join(splits)} fails now'


def _first_line(e: Exception) -> str:
  message = getattr(e, 'message', str(e))
  message = message.split('}}')[-1].split(' [Op:')[0].strip()  # TF's function-node prefix
  return message.splitlines()[0] if message else type(e).__name__


def _spec(layout: str) -> dict:
  spec = {
      'audio': tf.io.FixedLenFeature([], tf.string),
      'track_id': tf.io.FixedLenFeature([], tf.string),
      'offset': tf.io.FixedLenFeature([], tf.int64),
      'gap_rms_64': tf.io.FixedLenFeature([], tf.float32),
      'gap_rms_48': tf.io.FixedLenFeature([], tf.float32),
  }
  if layout == 'full':
    spec['context'] = tf.io.FixedLenFeature([], tf.string)
    spec['target'] = tf.io.FixedLenFeature([], tf.string)
  return spec


def _parser(manifest: dict, keep_features: bool = False):
  """serialized -> dict; audio stays in its stored dtype (int16 is half the shuffle memory)."""
  layout = manifest['layout']
  dtype = tf.int16 if manifest['audio_dtype'] == 'int16' else tf.float32
  n = manifest['record_length']
  spec = _spec(layout if keep_features else 'compact')

  def parse(serialized):
    r = tf.io.parse_single_example(serialized, spec)
    r['audio'] = tf.reshape(tf.io.decode_raw(r['audio'], dtype), [n])
    if keep_features:
      r['context'] = tf.reshape(tf.io.decode_raw(r['context'], tf.float32), [16, 257, 4])
      r['target'] = tf.reshape(tf.io.decode_raw(r['target'], tf.float32), [11, 257])
    return r

  return parse


def _to_float(audio):
  if audio.dtype == tf.int16:
    return tf.cast(audio, tf.float32) / 32768.0
  return audio


def _rms_key(gap_ms: int) -> str:
  if gap_ms not in (64, 48):
    raise ValueError(f'gap_ms must be 64 or 48, got {gap_ms}')
  return f'gap_rms_{gap_ms}'


def cluster_workers() -> int:
  """The machines of a multi-worker run (TF_CONFIG's cluster: chief and workers), 1 without one."""
  try:
    cluster = json.loads(os.environ.get('TF_CONFIG') or '{}').get('cluster', {})
  except ValueError:
    return 1
  return max(1, len(cluster.get('chief', [])) + len(cluster.get('worker', [])))


def shard_policy(n_files: int, workers: int = None):
  """How a multi-worker run splits the training records (docs/scaling.md): by shard file when
  every worker gets at least one (FILE: each reads only its files), else by data (DATA: each
  reads every file and keeps its share of each batch; slower, but a dataset with fewer shards
  than workers still trains)."""
  workers = cluster_workers() if workers is None else workers
  policy = tf.data.experimental.AutoShardPolicy
  return policy.FILE if n_files >= workers else policy.DATA


def _shard_options(n_files: int) -> tf.data.Options:
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = shard_policy(n_files)
  return options


def training_dataset(data_dir, split: str, cfg: Config, batch_size: int, shuffle: bool = True,
                     seed: int = 0, repeat: bool = True, shuffle_buffer: int = 8192):
  """(inputs, target [B, 11, 257, C]) batches, C = 1 (magnitude) or 2 (complex); inputs are the
  context features [B, 16, 257, 4], or with residual 'lpc' the pair network_inputs gives.

  Keeps windows whose gap (64 or 48 ms by cfg.signal.Lg) has RMS >= cfg.data.gap_rms_threshold.
  """
  manifest = read_manifest(data_dir)
  sig = cfg.signal
  gap_ms = 64 if sig.Lg == 1024 else 48
  key = _rms_key(gap_ms)
  margin, L = manifest['margin'], manifest['segment_length']
  if L != sig.L:
    raise DatasetError(f'{data_dir}: segments are {L} samples, the config wants L = {sig.L}')
  stored = (manifest['layout'] == 'full' and gap_ms == 64 and cfg.network.output == 'magnitude'
            and cfg.network.residual != 'lpc')
  files = shard_files(data_dir, split)
  if shuffle:
    # Windows of one track overlap by 90 % and sit together in a shard, so mix many shards
    # (one record from each in turn) before the shuffle buffer; each epoch reshuffles both.
    ds = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=seed,
                                                           reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(64, len(files)),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  else:  # file order, as evaluation_dataset
    ds = tf.data.TFRecordDataset(files)
  ds = ds.map(_parser(manifest, keep_features=stored), num_parallel_calls=tf.data.AUTOTUNE)
  threshold = cfg.data.gap_rms_threshold
  ds = ds.filter(lambda r: r[key] >= threshold)
  if stored:
    ds = ds.map(lambda r: (r['context'], r['target'][..., None]))
  else:
    ds = ds.map(lambda r: r['audio'][margin:margin + L])
  if shuffle:
    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()
  ds = ds.batch(batch_size, drop_remainder=repeat)
  ds = ds.with_options(_shard_options(len(files)))
  if not stored:
    def featurize(segments):
      x = _to_float(segments)
      inputs = network_inputs.network_inputs(x, cfg)
      if cfg.network.output == 'complex':
        target = features.gap_complex(x, sig)
      else:
        target = features.gap_magnitude(x, sig)[..., None]
      return inputs, target
    ds = ds.map(featurize, num_parallel_calls=tf.data.AUTOTUNE)
  return ds.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(data_dir, split: str, gap_ms: int = 64, batch_size: int = 64,
                       threshold: float = DataConfig.gap_rms_threshold):
  """Dicts {'audio' [B, 5632], 'segment' [B, 5120], 'track_id' [B], 'offset' [B]}, file order.

  Keeps windows whose centred `gap_ms` gap has RMS >= threshold (1e-4, §3.2).
  """
  manifest = read_manifest(data_dir)
  key = _rms_key(gap_ms)
  margin, L = manifest['margin'], manifest['segment_length']
  ds = tf.data.TFRecordDataset(shard_files(data_dir, split))
  ds = ds.map(_parser(manifest), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  ds = ds.filter(lambda r: r[key] >= threshold)
  ds = ds.batch(batch_size)

  def to_dict(r):
    audio = _to_float(r['audio'])
    return {'audio': audio, 'segment': audio[:, margin:margin + L],
            'track_id': r['track_id'], 'offset': r['offset']}

  return ds.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
      tf.data.AUTOTUNE)

