"""The perceptual-distance classifiers (longgap/classifiers.py) and their trainer: shapes,
feature width, learning a trivial problem, saving, and eq. 3 on their features."""

import json

import numpy as np
import pytest

from audio_context_encoder.longgap import classifiers
from audio_context_encoder.longgap import losses
from audio_context_encoder.longgap import metrics
from audio_context_encoder.longgap import classifier_training as trainer

T = 1024
CFG = classifiers.TINY


def tones(n, seed):
  """Two classes: a 300 Hz or a 2 kHz tone (16 kHz), random phase, amplitude and some noise."""
  rng = np.random.default_rng(seed)
  y = rng.integers(0, 2, n)
  t = np.arange(T) / 16000
  f = np.where(y == 0, 300.0, 2000.0)[:, None]
  a = rng.uniform(0.1, 0.8, (n, 1))
  x = a * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, (n, 1)))
  return (x + 0.01 * rng.standard_normal(x.shape)).astype(np.float32), y


def toy_data():
  return {'train': tones(96, 0), 'valid': tones(32, 1), 'test': tones(32, 2), 'labels': ['low', 'high']}


@pytest.mark.parametrize('kind', trainer.KINDS)
def test_shapes_and_feature_width(kind):
  model = trainer.build(kind, T, 3, CFG)
  x = trainer.inputs(kind, np.zeros((2, T), np.float32), CFG)
  assert model(x).shape == (2, 3)
  assert losses.penultimate(model)(x).shape == (2, CFG.features)
  assert trainer.features(kind, model, CFG)(np.zeros((5, T))).shape == (5, CFG.features)


def test_spectrogram_shape_matches_the_stft():
  assert classifiers.log_spectrogram(np.zeros((1, T)), CFG).shape[1:] == classifiers.spectrogram_shape(T, CFG)


@pytest.mark.slow  # trains a classifier (about 3 s each)
@pytest.mark.parametrize('kind', trainer.KINDS)
def test_learns_two_tones_and_round_trips(kind, tmp_path):
  record = trainer.train(kind, toy_data(), tmp_path, CFG, epochs=8, patience=8, batch_size=16,
                         lr=3e-3, command='test', verbose=0)
  assert record['test_accuracy'] > 0.9
  assert json.loads((tmp_path / f'{kind}.json').read_text())['test_accuracy'] == record['test_accuracy']
  model, _ = trainer.load_classifier(tmp_path, kind)
  x = tones(4, 3)[0]
  before = trainer.features(kind, model, CFG)(x)
  np.testing.assert_allclose(trainer.saved_features(tmp_path, kind)(x), before, atol=1e-5)
  assert not [p.name for p in tmp_path.iterdir() if p.name.startswith('.tmp-ace-')]


@pytest.mark.parametrize('kind', trainer.KINDS)
def test_perceptual_distance_is_zero_for_identical_and_grows_with_corruption(kind):
  psi = trainer.features(kind, trainer.build(kind, T, 2, CFG), CFG)
  x = tones(4, 4)[0]
  rng = np.random.default_rng(5)
  noise = rng.standard_normal(x.shape).astype(np.float32)
  d = [metrics.perceptual_distance(psi, x + s * noise, x).mean() for s in (0.0, 0.05, 0.5)]
  assert d[0] == 0.0
  assert 0 < d[1] < d[2]


@pytest.mark.parametrize('kind', trainer.KINDS)
def test_normalized_classifiers_ignore_the_gain(kind):
  model = trainer.build(kind, T, 2, CFG)
  x = tones(3, 6)[0]
  a, b = (model(trainer.inputs(kind, g * x, CFG)).numpy() for g in (1.0, 3.0))
  np.testing.assert_allclose(a, b, atol=1e-3 if kind == 'wave' else 2e-2)


def test_accuracy_by_group_and_english():
  class Fixed:
    def predict(self, x, batch_size, verbose):
      return np.eye(2)[x]
  by = trainer.accuracy_by_group(Fixed(), np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]),
                                 ['tuxpaint-en', 'tuxpaint-en', 'tuxpaint-fr', 'asterisk-allison'])
  assert by == {'asterisk-allison': 1.0, 'tuxpaint-en': 1.0, 'tuxpaint-fr': 0.0, 'english': 1.0}


def test_table_beside_the_paper():
  r = {'params': 10, 'test_accuracy': 0.5, 'best_valid_accuracy': 0.75, 'epochs_run': 3,
       'best_epoch': 2, 'train_seconds': 9.0, 'test_accuracy_by_group': {'english': 0.25}}
  text = trainer.table({'wave': r, 'spec': r}, 'toy')
  assert '| wave | 10 | 50.0 % | 25.0 % | 75.0 % | 3 (2) | 9 | SoundNet: 91.0 % / 93.4 % |' in text


@pytest.mark.slow  # trains a classifier for a few epochs
def test_early_stopping_ends_the_run_and_keeps_the_best_epoch(tmp_path):
  """Labels that are noise: the validation accuracy stops improving, the loop stops after
  `patience` epochs without a better one, and the record is the best epoch's."""
  rng = np.random.default_rng(5)
  data = toy_data()
  for split in ('train', 'valid', 'test'):
    x, y = data[split]
    data[split] = (x, rng.integers(0, 2, len(y)))
  record = trainer.train('wave', data, tmp_path, CFG, epochs=12, patience=1, batch_size=16,
                         lr=3e-3, verbose=0)
  assert 2 <= record['epochs_run'] < 12
  assert record['best_epoch'] == record['epochs_run'] - 1  # the one epoch without a better score
  best = json.loads((tmp_path / 'wave-run' / 'best.json').read_text())
  assert best['accuracy'] == record['best_valid_accuracy']
