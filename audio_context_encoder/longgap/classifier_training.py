"""Training the perceptual-distance classifiers (longgap/classifiers.py) on a built long-gap
dataset; no flags, so tests import it (experiments/longgap/classifiers.py is the entry point).

  <out>/<kind>.keras  the classifier with the best validation accuracy (kind: wave, spec)
  <out>/<kind>.json   test accuracy, epochs, seconds, labels, config, the command
Both written through audio_context_encoder.common.atomic.
"""

import dataclasses
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


class TimeBudget(keras.callbacks.Callback):
  """Stops training after the epoch that passes `seconds` (0: no budget)."""

  def __init__(self, seconds: float):
    super().__init__()
    self.seconds, self.start = seconds, time.monotonic()

  def on_epoch_end(self, epoch, logs=None):
    if self.seconds and time.monotonic() - self.start > self.seconds:
      self.model.stop_training = True


def save_model(model: keras.Model, path) -> None:
  with atomic.replacing(path) as tmp:
    model.save(tmp)


def train(kind: str, data, out, cfg=classifiers.DEFAULT, epochs: int = 30,
          time_budget_s: float = 0, batch_size: int = 32, patience: int = 4, lr: float = 1e-3,
          seed: int = 0, weights=None, command: str = '', verbose: int = 2) -> dict:
  """Trains on `train`, early-stops on `valid` (best weights kept), scores `test`; returns and
  writes the record. `data`: a dataset folder, or {split: (clips, label indices)} plus 'labels'."""
  keras.utils.set_random_seed(seed)
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
  y = {s: y for s, (_, y) in splits.items()}
  model = build(kind, splits['train'][0].shape[1], len(labels), cfg, weights)
  model.compile(keras.optimizers.Adam(lr), 'sparse_categorical_crossentropy', metrics=['accuracy'])
  stop = keras.callbacks.EarlyStopping('val_accuracy', patience=patience, mode='max',
                                       restore_best_weights=True)
  start = time.monotonic()
  history = model.fit(x['train'], y['train'], batch_size, epochs, verbose=verbose, shuffle=True,
                      validation_data=(x['valid'], y['valid']),
                      callbacks=[stop, TimeBudget(time_budget_s)])
  seconds = time.monotonic() - start
  _, test_acc = model.evaluate(x['test'], y['test'], batch_size, verbose=0)
  by_group = accuracy_by_group(model, x['test'], y['test'], test_groups) if test_groups else {}
  val = history.history['val_accuracy']
  record = {'kind': kind, 'test_accuracy': float(test_acc), 'best_valid_accuracy': float(max(val)),
            'epochs_run': len(val), 'best_epoch': int(np.argmax(val)) + 1,
            'test_accuracy_by_group': by_group, 'train_seconds': round(seconds, 1), 'params': int(model.count_params()),
            'clips': {s: int(len(v)) for s, v in y.items()}, 'labels': labels,
            'config': dataclasses.asdict(cfg), 'command': command}
  out = pathlib.Path(out)
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


# Chang et al. 2019, Table 1, SC09 test accuracy, "not pretrained" (from scratch) and pretrained.
PAPER_SC09 = {kind: (model, *(next(a for d, k, m, pre, _, a in paper_tables.TABLE1
                                   if (d, k, m, pre) == ('SC09', kind, model, p)) for p in (False, True)))
              for kind, model in (('wave', 'SoundNet'), ('spec', 'ResNet50'))}


def table(records, dataset: str) -> str:
  """Markdown: the Table 1 analogue of saved records ({kind: record})."""
  lines = [f'| classifier | params | test acc. | test acc., English voices | best valid acc. | '
           f'epochs (best) | train s | paper net, from scratch / pretrained (SC09) |',
           '|---|---:|---:|---:|---:|---:|---:|---|']
  for kind, r in records.items():
    name, scratch, pre = PAPER_SC09[kind]
    eng = r.get('test_accuracy_by_group', {}).get('english')
    lines.append(f'| {kind} | {r["params"]:,} | {100 * r["test_accuracy"]:.1f} % | '
                 f'{"" if eng is None else f"{100 * eng:.1f} %"} | {100 * r["best_valid_accuracy"]:.1f} % | '
                 f'{r["epochs_run"]} ({r["best_epoch"]}) | {r["train_seconds"]:.0f} | '
                 f'{name}: {100 * scratch:.1f} % / {100 * pre:.1f} % |')
  commands = sorted({r['command'] for r in records.values() if r.get('command')})
  lines += [''] + [f'Trained by: `{c}`' for c in commands]
  return f'Classifiers on {dataset}\n\n' + '\n'.join(lines) + '\n'
