"""Training the perceptual-distance classifiers (longgap/classifiers.py) on a built long-gap
dataset: their task of the one training loop (training/trainer.py); no flags, so tests import it
(experiments/longgap/classifiers.py is the entry point).

  <out>/<kind>-run/   the run folder of the loop (config.json, checkpoints/, train/, valid/, ...):
                      running again resumes it
  <out>/<kind>.keras  the classifier with the best validation accuracy (kind: wave, spec)
  <out>/<kind>.json   test accuracy, epochs, seconds, labels, config, the command
Both written through audio_context_encoder.common.atomic.
"""

import dataclasses
import itertools
import json
import os
import pathlib
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from audio_context_encoder.data import clip_dataset  # noqa: E402
from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.training import trainer as trainer_lib  # noqa: E402
from audio_context_encoder.longgap import classifiers, losses, paper_tables  # noqa: E402

KINDS = ('wave', 'spec')
ENGLISH = ('asterisk-allison', 'tuxpaint-en', 'tuxpaint-en_GB')  # the SC09 stand-in's English test voices


def accuracy_by_group(model, x, y, groups, batch_size: int = 64) -> dict:
  """{group: accuracy} plus 'english' (the groups of ENGLISH present): the SC09 stand-in's test
  split is mostly digits said in other languages, which an English-trained net cannot know."""
  hit = np.argmax(model.predict(x, batch_size, verbose=0), axis=1) == y
  groups = np.asarray(groups)
  out = {g: float(hit[groups == g].mean()) for g in sorted(set(groups))}
  english = np.isin(groups, ENGLISH)
  if english.any():
    out['english'] = float(hit[english].mean())
  return out


def load(folder, split: str, labels=None):
  """(clips [N, T], label indices [N], labels): labels default to the sorted ones of the split."""
  clips, rows = clip_dataset.read_split(folder, split)
  names = [r['label'] for r in rows]
  labels = list(labels) if labels is not None else sorted(set(names))
  index = {name: i for i, name in enumerate(labels)}
  return clips, np.array([index.get(n, -1) for n in names], np.int64), labels


def inputs(kind: str, clips, cfg: classifiers.ClassifierConfig, chunk: int = 256) -> np.ndarray:
  """What the classifier of `kind` takes: the clips, or their log spectrograms (in chunks)."""
  clips = np.asarray(clips, np.float32)
  if kind == 'wave':
    return clips
  return np.concatenate([classifiers.log_spectrogram(clips[i:i + chunk], cfg).numpy()
                         for i in range(0, len(clips), chunk)]) if len(clips) else clips


def build(kind: str, clip_samples: int, n_classes: int, cfg, weights=None) -> keras.Model:
  make = classifiers.waveform_classifier if kind == 'wave' else classifiers.spectrogram_classifier
  return make(clip_samples, n_classes, cfg, weights)


def save_model(model: keras.Model, path) -> None:
  with atomic.replacing(path) as tmp:
    model.save(tmp)


class ClassifierTask(trainer_lib.Task):
  """A classifier as a task of the one training loop: epochs of shuffled batches (epoch e drawn
  with the seed (seed, e)), sparse cross-entropy, validation accuracy after every epoch (its
  negative is the best model's score), early stopping after `patience` epochs without a better
  one, at most `epochs` epochs."""

  def __init__(self, kind, cfg, x, y, clip_samples: int, n_classes: int, record: dict, epochs: int,
               patience: int, batch_size: int, lr: float, seed: int, weights=None):
    self.kind, self.cfg, self.x, self.y, self.n_classes = kind, cfg, x, y, n_classes
    self.clip_samples = clip_samples
    self._record, self.epochs, self.patience = record, epochs, patience
    self.batch_size, self.lr, self.seed, self.weights = batch_size, lr, seed, weights
    self.steps_per_epoch = -(-len(x['train']) // batch_size)
    self.validation_interval = self.steps_per_epoch

  def record(self) -> dict:
    return self._record

  def build(self, options):
    return build(self.kind, self.clip_samples, self.n_classes, self.cfg, self.weights)

  def optimizer(self):
    return keras.optimizers.Adam(self.lr)

  def train_dataset(self, start_step: int):
    x, y, per = self.x['train'], self.y['train'], self.steps_per_epoch

    def batches():
      for step in itertools.count(start_step):
        epoch, k = divmod(step, per)
        order = np.random.default_rng([self.seed, epoch]).permutation(len(x))
        pick = order[k * self.batch_size:(k + 1) * self.batch_size]
        yield x[pick], y[pick]

    return tf.data.Dataset.from_generator(batches, output_signature=(
        tf.TensorSpec((None,) + x.shape[1:], tf.float32), tf.TensorSpec((None,), tf.int64)))

  def loss(self, model, batch, global_batch_size, replicas):
    x, y = batch
    p = model(x, training=True)
    per_example = keras.losses.sparse_categorical_crossentropy(y, p)
    hits = tf.cast(tf.equal(tf.argmax(p, axis=-1), y), tf.float32)
    n = tf.cast(tf.shape(y)[0], tf.float32)
    total = tf.reduce_sum(per_example) / tf.cast(global_batch_size, tf.float32)
    return total, {'loss_sum': tf.reduce_sum(per_example), 'hits': tf.reduce_sum(hits), 'count': n}

  def log(self, sums, steps):
    return {'loss': sums['loss_sum'] / sums['count'], 'accuracy': sums['hits'] / sums['count']}

  def validate(self, model, options):
    loss, accuracy = evaluate(model, self.x['valid'], self.y['valid'], self.batch_size)
    return trainer_lib.Validation({'loss': loss, 'accuracy': accuracy}, score=-accuracy)

  def total_steps(self) -> int:
    return self.epochs * self.steps_per_epoch

  def stop_early(self) -> bool:
    return bool(self.patience) and int(self.since_best.numpy()) >= self.patience

  def save_model(self, model, path: str) -> None:
    save_model(model, path)


def evaluate(model, x, y, batch_size: int):
  """(mean cross-entropy, accuracy) of the classifier on (x, y)."""
  p = np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                      for i in range(0, len(x), batch_size)])
  loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, p)))
  return loss, float(np.mean(np.argmax(p, axis=1) == y))


def train(kind: str, data, out, cfg=classifiers.DEFAULT, epochs: int = 30,
          time_budget_s: float = 0, batch_size: int = 32, patience: int = 4, lr: float = 1e-3,
          seed: int = 0, weights=None, command: str = '', verbose: int = 2,
          strategy: str = 'default') -> dict:
  """Trains on `train`, early-stops on `valid` (the best model kept), scores `test`; returns and
  writes the record. `data`: a dataset folder, or {split: (clips, label indices)} plus 'labels'.
  verbose 0: no progress bar. A run stopped midway continues when called again alike."""
  trainer_lib.make_strategy(strategy)  # before TensorFlow runs anything (multi_worker)
  test_groups = None
  if isinstance(data, dict):
    splits, labels = {s: data[s] for s in ('train', 'valid', 'test')}, list(data['labels'])
  else:
    test_groups = [r['group'] for r in clip_dataset.read_split(data, 'test')[1]]
    train_clips, train_y, labels = load(data, 'train')
    splits = {'train': (train_clips, train_y)}
    for s in ('valid', 'test'):
      c, y, _ = load(data, s, labels)
      splits[s] = (c, y)
  x = {s: inputs(kind, c, cfg) for s, (c, _) in splits.items()}
  y = {s: np.asarray(y, np.int64) for s, (_, y) in splits.items()}
  out = pathlib.Path(out)
  run_dir = out / f'{kind}-run'
  record = {'kind': kind, 'config': dataclasses.asdict(cfg), 'labels': labels,
            'data': 'in memory' if isinstance(data, dict) else str(data),
            'clips': {s: int(len(v)) for s, v in y.items()}, 'epochs': epochs, 'patience': patience,
            'batch_size': batch_size, 'lr': lr, 'seed': seed, 'weights': weights and str(weights)}
  task = ClassifierTask(kind, cfg, x, y, splits['train'][0].shape[1], len(labels), record, epochs,
                        patience, batch_size, lr, seed, weights)
  options = trainer_lib.RunOptions(checkpoint_every=task.steps_per_epoch, log_every=task.steps_per_epoch,
                                   time_budget_s=time_budget_s, progress=bool(verbose),
                                   strategy=strategy)
  start = time.monotonic()
  loop = trainer_lib.Trainer(task, str(run_dir), options)
  result = loop.fit()
  seconds = time.monotonic() - start
  best_path = run_dir / trainer_lib.BEST_MODEL
  model = keras.models.load_model(best_path) if best_path.exists() else loop.model
  _, test_acc = evaluate(model, x['test'], y['test'], batch_size)
  by_group = accuracy_by_group(model, x['test'], y['test'], test_groups) if test_groups else {}
  best = json.loads((run_dir / trainer_lib.BEST_RECORD).read_text()) if best_path.exists() else {}
  record = {'kind': kind, 'test_accuracy': float(test_acc),
            'best_valid_accuracy': float(best.get('accuracy', float('nan'))),
            'epochs_run': result['step'] // task.steps_per_epoch,
            'best_epoch': best.get('step', 0) // task.steps_per_epoch,
            'test_accuracy_by_group': by_group, 'train_seconds': round(seconds, 1),
            'params': int(model.count_params()), 'clips': record['clips'], 'labels': labels,
            'config': dataclasses.asdict(cfg), 'command': command}
  out.mkdir(parents=True, exist_ok=True)
  save_model(model, out / f'{kind}.keras')
  atomic.write_json(out / f'{kind}.json', record, indent=1)
  return record


def load_classifier(out, kind: str):
  """(model, record) saved by train."""
  return load_classifier_file(pathlib.Path(out) / f'{kind}.keras')


def load_classifier_file(path):
  """(model, record) of NAME.keras and the NAME.json beside it (a shipped classifier)."""
  path = pathlib.Path(path)
  for p in (path, path.with_suffix('.json')):
    if not p.exists():
      raise ValueError(f'{p}: missing (make longgap-classifiers trains the classifiers)')
  return keras.models.load_model(path), json.loads(path.with_suffix('.json').read_text())


def psi_of(kind: str, model: keras.Model, cfg=classifiers.DEFAULT):
  """Eq. 3's Psi of a classifier, on clips [B, T] (the spectrogram one through its STFT)."""
  psi = losses.penultimate(model)
  if kind == 'spec':
    psi = losses.on_spectrogram(psi, cfg.n_fft, cfg.hop, cfg.log_floor)
  return psi


def features(kind: str, model: keras.Model, cfg=classifiers.DEFAULT, batch_size: int = 64):
  """Psi for metrics.perceptual_distance: clips [B, T] -> penultimate features [B, F] (numpy)."""
  psi = psi_of(kind, model, cfg)

  def run(clips):
    clips = tf.convert_to_tensor(np.asarray(clips, np.float32))
    return np.concatenate([np.asarray(psi(clips[i:i + batch_size]))
                           for i in range(0, len(clips), batch_size)])
  return run


def saved_features(out, kind: str):
  """Psi of a classifier saved by train, with the STFT settings it was trained with."""
  return file_features(pathlib.Path(out) / f'{kind}.keras', kind)


def file_features(path, kind: str):
  """Psi of the classifier NAME.keras (+ NAME.json) of `kind`."""
  model, record = load_classifier_file(path)
  return features(kind, model, config_of(record))


def file_psi(path):
  """(kind, Psi as a TensorFlow function of clips [B, T]) of the classifier NAME.keras (+ .json):
  differentiable, for eq. 3 as a training loss (longgap/trainer.py)."""
  model, record = load_classifier_file(path)
  return record['kind'], psi_of(record['kind'], model, config_of(record))


def config_of(record) -> classifiers.ClassifierConfig:
  return classifiers.ClassifierConfig(**{k: tuple(v) if isinstance(v, list) else v
                                         for k, v in record['config'].items()})


# Chang et al. 2019, Table 1: test accuracy of its from-scratch and pretrained nets, per protocol.
PAPER_DATASETS = {'sc09': 'SC09', 'esc50': 'ESC-50'}
PAPER = {(protocol, kind): (model, *(next(a for d, k, m, pre, _, a in paper_tables.TABLE1
                                          if (d, k, m, pre) == (name, kind, model, p))
                                     for p in (False, True)))
         for protocol, name in PAPER_DATASETS.items()
         for kind, model in (('wave', 'SoundNet'), ('spec', 'ResNet50'))}


def table(records, dataset: str, protocol: str = 'sc09') -> str:
  """Markdown: the Table 1 analogue of saved records ({kind: record}) of a `protocol` dataset."""
  paper = PAPER_DATASETS[protocol]
  lines = [f'| classifier | params | test acc. | test acc., English voices | best valid acc. | '
           f'epochs (best) | train s | paper net, from scratch / pretrained ({paper}) |',
           '|---|---:|---:|---:|---:|---:|---:|---|']
  for kind, r in records.items():
    name, scratch, pre = PAPER[protocol, kind]
    eng = r.get('test_accuracy_by_group', {}).get('english')
    lines.append(f'| {kind} | {r["params"]:,} | {100 * r["test_accuracy"]:.1f} % | '
                 f'{"" if eng is None else f"{100 * eng:.1f} %"} | {100 * r["best_valid_accuracy"]:.1f} % | '
                 f'{r["epochs_run"]} ({r["best_epoch"]}) | {r["train_seconds"]:.0f} | '
                 f'{name}: {100 * scratch:.1f} % / {100 * pre:.1f} % |')
  commands = sorted({r['command'] for r in records.values() if r.get('command')})
  lines += [''] + [f'Trained by: `{c}`' for c in commands]
  return f'Classifiers on {dataset}\n\n' + '\n'.join(lines) + '\n'
