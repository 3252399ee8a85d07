"""longgap-spec and longgap-wave: Chang et al.'s networks behind `inpaint`, and the script
that ships them (experiments/longgap/ship.py). Tiny untrained networks stand in for
the shipped ones: these tests check the plumbing, not the quality."""

import json
import os

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder import methods
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import trained
from audio_context_encoder.common import run_events
from audio_context_encoder.longgap import shipping as longgap_shipping
from audio_context_encoder.longgap import trainer as longgap_trainer
from tests.test_longgap_models import TINY_SPEC, TINY_WAVE
from tests.test_longgap_models_cli import tiny_folder  # noqa: F401 (a fixture)
from tests.test_longgap_trained import save

NETWORKS = {'spec': TINY_SPEC, 'wave': TINY_WAVE}


def stereo(path, rate=44100, seconds=1.6, seed=0):
  """Two noisy tones, 24-bit: the samples as the file holds them."""
  rng = np.random.default_rng(seed)
  t = np.arange(int(rate * seconds)) / rate
  x = np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in (440.0, 620.0)], axis=1)
  soundfile.write(str(path), x + 0.01 * rng.standard_normal(x.shape), rate, subtype='PCM_24')
  return soundfile.read(str(path), always_2d=True)[0]


def test_both_networks_are_long_gap_methods_with_the_shipped_defaults():
  assert {'longgap-spec', 'longgap-wave'} <= set(methods.long_gap_names())
  assert 'longgap-spec' not in methods.names()  # the tables' methods are unchanged
  for kind in NETWORKS:
    assert methods.LONGGAP_MODELS[kind].endswith(f'models/longgap-{kind}-sc09.keras')
    assert methods.trained(f'longgap-{kind}')


@pytest.mark.parametrize('kind', ['spec', 'wave'])
def test_200ms_gap_at_44k_stereo_is_filled_and_bit_exact_outside(tmp_path, kind):
  path, _ = save(tmp_path, kind, NETWORKS[kind])
  x = stereo(tmp_path / 'in.wav')
  out = tmp_path / 'out.wav'
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(out), '--gap', '0.7:200',
                   '--method', f'longgap-{kind}', '--model', str(path)]) == 0
  y = soundfile.read(str(out), always_2d=True)[0]
  a, b = int(0.7 * 44100), int(0.9 * 44100)
  guard = int(np.ceil(16 * 44100 / 16000)) + 1  # the 1 ms resampling guard (edge_guard)
  keep = np.ones(len(x), bool)
  keep[a - guard:b + guard] = False
  np.testing.assert_array_equal(y[keep], x[keep])
  assert np.all(np.isfinite(y)) and np.mean(y[a:b] != x[a:b]) > 0.9


def test_the_method_finds_its_window_and_loads_its_network_at_the_first_gap(tmp_path):
  path, _ = save(tmp_path, 'wave', TINY_WAVE)
  method = methods.get('longgap-wave', model=str(path))
  assert (method.zone, method.max_ms, method.needs(3200)) == (0, 500, (4000, 12000))
  assert method._network is None  # refusals happen before TensorFlow
  x16 = np.random.default_rng(3).standard_normal(30000)
  gap = method.fill_gap(x16, 10000, 13200)
  np.testing.assert_array_equal(gap, method.network.fill_gap(x16, 10000, 13200, 16000))


def garbage(tmp_path):
  path = save(tmp_path, 'wave', TINY_WAVE)[0]
  path.write_bytes(b'not a zip')
  return path


@pytest.mark.parametrize('gap,model,message', [
    ('0.5:600', 'own', 'gap 0.5s:600ms is longer than 500 ms; longgap-wave fills gaps up to 500 ms '
     '(half its 1000 ms window) with 250 ms of audio on both sides: use --method longgap-lpc or '
     'similarity'),
    ('0.1:200', 'own', 'needs 251 ms of audio on both sides; longgap-wave fills'),  # 1 ms guard
    ('0.7:200', 'missing', 'nowhere.keras: no such model file (`make longgap-models` trains the '
     'long-gap networks and writes models/longgap-wave-sc09.keras)'),
    ('0.7:200', 'spec', 'spec.keras: a spec network; use --method longgap-spec'),
    ('0.7:200', 'garbage', 'wave.keras: cannot be loaded as a long-gap network'),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, capsys, gap, model, message):
  model = {'own': lambda: save(tmp_path, 'wave', TINY_WAVE)[0],
           'spec': lambda: save(tmp_path, 'spec', TINY_SPEC)[0],
           'missing': lambda: tmp_path / 'nowhere.keras', 'garbage': lambda: garbage(tmp_path)}[model]()
  stereo(tmp_path / 'in.wav')
  out = tmp_path / 'out.wav'
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(out), '--gap', gap,
                   '--method', 'longgap-wave', '--model', str(model)]) == 2
  err = capsys.readouterr().err.strip()
  assert err.count('\n') == 0 and message in err
  assert not out.exists()


def test_evaluate_refuses_them_on_the_papers_windows(tmp_path, capsys):
  path, _ = save(tmp_path, 'wave', TINY_WAVE)
  assert cli.main(['evaluate', str(tmp_path), '--method', 'longgap-wave', '--model', str(path)]) == 2
  assert ("longgap-wave needs 250 ms of context on each side of a 64 ms gap; evaluate cuts the "
          "paper's windows, 128 ms on each side") in capsys.readouterr().err


def test_the_default_model_file_is_the_shipped_one(monkeypatch, tmp_path):
  monkeypatch.setitem(methods.LONGGAP_MODELS, 'spec', str(tmp_path / 'longgap-spec-sc09.keras'))
  with pytest.raises(UserError, match='longgap-spec-sc09.keras: no such model file'):
    methods.get('longgap-spec')
  path, _ = save(tmp_path, 'spec', TINY_SPEC)
  monkeypatch.setitem(methods.LONGGAP_MODELS, 'spec', str(path))
  method = methods.get('longgap-spec', phase='gl', iterations=3)
  assert (method.model_path, method.phase, method.iterations) == (str(path), 'gl', 3)


def fake_run(run_dir, valid):
  """A run folder as longgap_trainer.train leaves it, made without training (fast): config.json,
  a checkpoint at step 7, train and valid scalars ({step: value of every VALID_TAG}),
  last.keras written last."""
  import tensorflow as tf
  run_dir.mkdir()
  tf.train.CheckpointManager(tf.train.Checkpoint(step=tf.Variable(7, dtype=tf.int64)),
                             str(run_dir / 'checkpoints'), 3).save(checkpoint_number=7)
  for sub, steps in (('train', {s: {'total': 0.1} for s in range(1, 8)}), ('valid', valid)):
    with tf.summary.create_file_writer(str(run_dir / sub)).as_default():
      for step, values in steps.items():
        for tag, value in values.items():
          tf.summary.scalar(tag, value, step=step)
  path, _ = save(run_dir, 'wave', TINY_WAVE)
  path.with_suffix('.json').rename(run_dir / 'config.json')
  path.rename(run_dir / 'last.keras')


def test_ship_copies_last_keras_with_run_json_and_provenance(tmp_path):
  last = {tag: float(i) for i, tag in enumerate(longgap_shipping.VALID_TAGS)}
  fake_run(tmp_path / 'run', {4: {tag: -1.0 for tag in last}, 7: last})
  target, info = longgap_shipping.ship(tmp_path / 'run', 'make it', out_dir=tmp_path / 'models')
  assert target == tmp_path / 'models' / 'longgap-wave-sc09.keras'
  assert target.read_bytes() == (tmp_path / 'run' / 'last.keras').read_bytes()
  saved = json.loads(target.with_suffix('.json').read_text())
  assert saved == json.loads(json.dumps(info))
  run_json = json.loads((tmp_path / 'run' / 'config.json').read_text())
  assert {k: saved[k] for k in run_json} == run_json  # model, preset, config, protocol
  assert (saved['command'], saved['steps'], saved['validation']) == ('make it', 7, {'step': 7, **last})
  assert len(saved['commit']) == 40 and 0 <= saved['wall_time_s'] < 60
  assert trained.TrainedNetwork(target).kind == 'wave'
  ckpt = next((tmp_path / 'run' / 'checkpoints').glob('*.index'))
  os.utime(ckpt, (ckpt.stat().st_mtime + 10,) * 2)  # the run was stopped after a checkpoint
  with pytest.raises(ValueError, match='last.keras is older than ckpt-7'):
    longgap_shipping.ship(tmp_path / 'run', 'make it', out_dir=tmp_path / 'models')


def test_training_time_leaves_out_pauses():
  assert run_events.training_seconds([0, 10, 20, 5000, 5030], pause_s=600) == 50


@pytest.mark.slow
def test_ship_a_run_made_by_the_trainer(tiny_folder, tmp_path):  # noqa: F811
  run = longgap_trainer.train(tiny_folder, kind='wave', preset='small', steps=2, batch_size=2,
                              runs_dir=tmp_path, name='run', log_every=1, valid_every=2,
                              valid_clips=1)['run_dir']
  target, info = longgap_shipping.ship(run, 'make it', out_dir=tmp_path / 'models')
  assert (info['steps'], info['validation']['step'], info['data_dir']) == (2, 2, str(tiny_folder))
  assert json.loads((tmp_path / 'run' / 'config.json').read_text()).items() <= info.items()
  net = trained.TrainedNetwork(target)
  clips = np.zeros((1, config.SC09.clip_samples))
  assert net.fill(clips, config.SC09.test_mask_array(1)).shape == clips.shape


def test_ship_classifiers_names_them_by_protocol_and_records_provenance(tiny_folder, tmp_path):  # noqa: F811
  clf = tmp_path / 'clf'
  clf.mkdir()
  (clf / 'wave.keras').write_bytes(b'model bytes')
  (clf / 'wave.json').write_text(json.dumps({'kind': 'wave', 'test_accuracy': 0.25,
                                             'command': f'train --clf_data={tiny_folder} --x=1'}))
  [target] = longgap_shipping.ship_classifiers(clf, tmp_path / 'models', note='two cores')
  assert target == tmp_path / 'models' / 'longgap-classifier-wave-sc09.keras'
  assert target.read_bytes() == b'model bytes'
  saved = json.loads(target.with_suffix('.json').read_text())
  assert (saved['data_dir'], saved['note'], saved['test_accuracy']) == (str(tiny_folder), 'two cores', 0.25)
  assert len(saved['commit']) == 40
  with pytest.raises(ValueError, match='no wave.keras or spec.keras'):
    longgap_shipping.ship_classifiers(tmp_path / 'models', tmp_path / 'other')


def test_a_baseline_start_network_ships_under_its_own_name():
  assert trained.longgap_model_file('spec', 'esc50', 'interp') == 'longgap-spec-interp-esc50.keras'
  assert trained.longgap_model_file('spec', 'esc50') == 'longgap-spec-esc50.keras'


def test_ship_classifiers_whose_data_folder_is_gone_is_one_line(tmp_path):
  import subprocess
  import sys
  (tmp_path / 'wave.keras').write_bytes(b'x')
  (tmp_path / 'wave.json').write_text(json.dumps({'kind': 'wave', 'command': f'x --clf_data={tmp_path / "gone"}'}))
  p = subprocess.run([sys.executable, '-m', 'experiments.longgap.ship', f'--classifiers_dir={tmp_path}',
                      f'--out_dir={tmp_path / "models"}'], capture_output=True, text=True, timeout=120,
                     cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  assert p.returncode == 1 and 'Traceback' not in p.stderr
  assert 'gone' in p.stderr and not (tmp_path / 'models').exists()
