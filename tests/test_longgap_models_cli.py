"""experiments/longgap/train.py on a tiny built SC09-protocol folder: runs, writes its files,
resumes exactly, refuses other settings in the same run folder."""

import dataclasses
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder.data import clip_dataset
from audio_context_encoder.longgap import classifiers
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import classifier_training as clf_trainer
from audio_context_encoder.longgap import trainer as longgap_train
from tfrecords_tools import longgap_dataset


@pytest.fixture(scope='module')
def tiny_folder(tmp_path_factory):
  out = tmp_path_factory.mktemp('longgap-tiny')
  t = np.arange(16000) / 16000
  items = [longgap_dataset.ClipItem(split, str(i), f'{split}{i}', 'test', 'synthetic',
                                    load=lambda f=200 + 50 * i: 0.3 * np.sin(2 * np.pi * f * t))
           for split, n in (('train', 3), ('valid', 2), ('test', 1)) for i in range(n)]
  longgap_dataset.write(items, out, config.SC09, 'synthetic')
  return out


def test_batches_are_a_function_of_seed_and_step(tiny_folder):
  clips, _ = clip_dataset.read_split(tiny_folder, 'train')
  a = longgap_train.batch(clips, config.SC09, 2, 0, 7)
  b = longgap_train.batch(clips, config.SC09, 2, 0, 7)
  c = longgap_train.batch(clips, config.SC09, 2, 0, 8)
  np.testing.assert_array_equal(a[1], b[1])
  assert not np.array_equal(a[1], c[1])
  assert np.all(a[1].sum(axis=1) == 3200)  # the protocol's 0.2 s random masks


def tags(folder):
  return {v.tag for f in folder.glob('events.out.tfevents.*')
          for e in tf.compat.v1.train.summary_iterator(str(f)) for v in e.summary.value}


@pytest.mark.slow
def test_spectrogram_model_trains_and_validates_through_griffin_lim(tiny_folder, tmp_path):
  psi = lambda log_mag: tf.reduce_mean(log_mag, axis=-1)  # any Psi of eq. 3: frame means
  out = longgap_train.train(tiny_folder, kind='spec', preset='small', steps=1, batch_size=2,
                            runs_dir=tmp_path, valid_clips=1, gl_iterations=2, features=psi,
                            perceptual_weight=0.5)
  assert out['step'] == 1
  run = tmp_path / f'longgap-small-{tiny_folder.name}-spec'
  assert out['run_dir'] == str(run) and (run / 'last.keras').exists()
  assert 'ml1_waveform' in tags(run / 'valid')
  assert {'masked_l1', 'perceptual', 'total'} <= tags(run / 'train')


@pytest.mark.slow
def test_train_resumes_exactly_and_refuses_other_settings(tiny_folder, tmp_path):
  kw = dict(kind='wave', preset='small', batch_size=2, log_every=1, checkpoint_every=100,
            valid_every=2, valid_clips=2)
  whole = longgap_train.train(tiny_folder, steps=4, runs_dir=tmp_path, name='whole', **kw)
  assert whole == {'step': 4, 'run_dir': str(tmp_path / 'whole'), 'stopped': 'steps'}
  longgap_train.train(tiny_folder, steps=2, runs_dir=tmp_path, name='split', **kw)
  again = longgap_train.train(tiny_folder, steps=4, runs_dir=tmp_path, name='split', **kw)
  assert again['step'] == 4
  w1 = keras.saving.load_model(tmp_path / 'whole' / 'last.keras').get_weights()
  w2 = keras.saving.load_model(tmp_path / 'split' / 'last.keras').get_weights()
  for a, b in zip(w1, w2):
    np.testing.assert_array_equal(a, b)
  assert json.loads((tmp_path / 'whole' / 'config.json').read_text())['model'] == 'wave'
  assert list((tmp_path / 'whole' / 'train').glob('events.out.tfevents.*'))
  assert tags(tmp_path / 'whole' / 'valid') == {'loss_masked_l1', 'ml1_waveform', 'ml1_masked_input', 'spectral_snr_db',
                                                'target_inpainted', 'spectrogram_target_inpainted'}
  with pytest.raises(ValueError, match='other settings'):
    longgap_train.train(tiny_folder, steps=4, runs_dir=tmp_path, name='whole', **{**kw, 'kind': 'spec'})
  stopped = longgap_train.train(tiny_folder, steps=100, runs_dir=tmp_path, name='whole',
                                time_budget_s=1e-9, **kw)
  assert stopped['stopped'] == 'time budget' and stopped['step'] == 4


@pytest.mark.parametrize('clf_kind', ['wave', 'spec'])
def test_waveform_network_trains_with_a_saved_classifiers_perceptual_loss(tiny_folder, tmp_path, clf_kind):
  path = tmp_path / f'clf-{clf_kind}.keras'
  clf_trainer.save_model(clf_trainer.build(clf_kind, 16000, 2, classifiers.TINY), path)
  path.with_suffix('.json').write_text(json.dumps({'kind': clf_kind, 'config': dataclasses.asdict(classifiers.TINY)}))
  out = longgap_train.train(tiny_folder, kind='wave', preset='small', steps=2, batch_size=2, log_every=1,
                            runs_dir=tmp_path, valid_clips=0, perceptual_weight=0.5,
                            perceptual_classifier=str(path))
  assert out['step'] == 2
  run = pathlib.Path(out['run_dir'])
  assert json.loads((run / 'config.json').read_text())['perceptual_classifier'] == str(path)
  perceptual = [float(tf.make_ndarray(v.tensor)) for f in (run / 'train').glob('events.out.tfevents.*')
                for e in tf.compat.v1.train.summary_iterator(str(f)) for v in e.summary.value
                if v.tag == 'perceptual']
  assert perceptual and all(np.isfinite(perceptual))
  with pytest.raises(ValueError, match='waveform network only'):
    longgap_train.train(tiny_folder, kind='spec', steps=1, runs_dir=tmp_path, perceptual_weight=0.5,
                        perceptual_classifier=str(path))


@pytest.mark.slow
def test_train_entry_point_starts_from_a_baseline(tiny_folder, tmp_path):
  """`experiments.longgap.train --baseline=interp`: the run records the deviation, ships under
  its own name; with the waveform network it is one line."""
  import subprocess
  import sys
  from audio_context_encoder.longgap import shipping
  root = pathlib.Path(__file__).resolve().parents[1]
  cmd = [sys.executable, '-m', 'experiments.longgap.train', f'--data_dir={tiny_folder}',
         '--model=spec', '--baseline=interp', '--steps=1', '--batch_size=2', '--valid_clips=1',
         '--gl_iterations=2', f'--runs_dir={tmp_path}', '--name=interp']
  p = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-2000:]
  assert json.loads((tmp_path / 'interp' / 'config.json').read_text())['config']['baseline'] == 'interp'
  target, _ = shipping.ship(tmp_path / 'interp', 'unit', out_dir=tmp_path / 'models')
  assert target.name == 'longgap-spec-interp-sc09.keras'
  p = subprocess.run(cmd[:4] + ['--model=wave'] + cmd[5:], cwd=root, capture_output=True, text=True,
                     timeout=300)
  assert p.returncode == 1 and 'Traceback' not in p.stderr
  assert 'the spectrogram network only' in p.stderr
