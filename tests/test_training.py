"""Training loop in-process: checkpoint contents, learning-rate phase, TensorBoard events."""

import dataclasses
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.context_encoder import training
from tests.test_training_helpers import dataset_fns, examples, small_config


def read_events(folder):
  """{tag: [(step, value or tensor)]} from every event file of a TensorBoard folder."""
  out = {}
  for path in sorted(glob.glob(os.path.join(folder, 'events.out.tfevents.*'))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for v in event.summary.value:
        out.setdefault(v.tag, []).append(
            (event.step, v.metadata.plugin_data.plugin_name, tf.make_ndarray(v.tensor)))
  return out


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """4 steps of the small network on 4 gspi examples, batch 2, LR drop after step 3."""
  run_dir = str(tmp_path_factory.mktemp('run'))
  cfg = small_config(batch_size=2, validation_interval=2, steps=4, lr_drop_step=3)
  context, target = examples(cfg, 4)
  train_fn, valid_fn = dataset_fns(context, target, 2)
  options = training.RunOptions(checkpoint_every=2, log_every=1, progress=False, image_examples=2)
  trainer = training.Trainer(cfg, run_dir, options)
  result = trainer.fit(train_fn, valid_fn)
  return cfg, run_dir, trainer, result, (train_fn, valid_fn, options)


@pytest.mark.slow  # the `run` fixture trains in-process
def test_finishes_with_dropped_rate(run):
  cfg, run_dir, trainer, result, _ = run
  assert result['step'] == 4 and result['phase'] == 1
  assert float(trainer.optimizer.learning_rate.numpy()) == pytest.approx(cfg.train.learning_rate_final)
  for name in ('best.keras', 'last.keras', 'config.json'):
    assert os.path.isfile(os.path.join(run_dir, name))
  model, loaded_cfg = model_lib.load_model(os.path.join(run_dir, 'last.keras'))
  assert loaded_cfg == cfg
  for a, b in zip(model.weights, trainer.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.slow  # the `run` fixture trains in-process
def test_resume_restores_model_optimizer_and_phase(run):
  cfg, run_dir, trainer, _, (_, _, options) = run
  again = training.Trainer(cfg, run_dir, options)
  assert again.resumed_from == 4
  assert int(again.phase.numpy()) == 1 and int(again.drop_step.numpy()) == 3
  assert float(again.optimizer.learning_rate.numpy()) == pytest.approx(cfg.train.learning_rate_final)
  assert float(again.best.numpy()) == float(trainer.best.numpy())
  assert int(again.optimizer.iterations.numpy()) == 4
  for a, b in zip(again.model.weights, trainer.model.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # Adam moments, not only the weights, come back.
  def moments(opt):
    return [v for v in opt.variables if 'momentum' in v.path or 'velocity' in v.path]

  assert len(moments(trainer.optimizer)) == 2 * len(trainer.model.trainable_variables)
  for a, b in zip(moments(again.optimizer), moments(trainer.optimizer), strict=True):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  assert all(np.abs(v.numpy()).max() > 0 for v in moments(trainer.optimizer))


@pytest.mark.slow  # the `run` fixture trains in-process
def test_tensorboard_scalars_images_text(run):
  _, run_dir, _, _, _ = run
  train = read_events(os.path.join(run_dir, 'train'))
  for tag in ('loss/total', 'loss/reconstruction', 'loss/l2', 'snr', 'nmse', 'learning_rate',
              'examples_per_sec', 'input_wait_fraction'):
    assert [s for s, _, _ in train[tag]] == [1, 2, 3, 4], tag
    assert all(np.isfinite(v) for _, _, v in train[tag]), tag
  total = np.array([v for _, _, v in train['loss/total']])
  parts = np.array([v for _, _, v in train['loss/reconstruction']]) + np.array(
      [v for _, _, v in train['loss/l2']])
  np.testing.assert_allclose(total, parts, rtol=1e-5)
  lr = [float(v) for _, _, v in train['learning_rate']]
  assert lr[:3] == pytest.approx([1e-3] * 3) and lr[3] == pytest.approx(1e-4)
  assert train['config'][0][1] == 'text' and b'encoder_channels' in train['config'][0][2].item()
  valid = read_events(os.path.join(run_dir, 'valid'))
  assert [s for s, _, _ in valid['nmse']] == [2, 4] and [s for s, _, _ in valid['snr']] == [2, 4]
  for name in ('target', 'prediction', 'context_and_prediction'):
    entries = valid[f'spectrogram/{name}']
    assert [s for s, _, _ in entries] == [2, 4] and entries[0][1] == 'images'
    # width, height, then 2 encoded PNGs
    assert len(entries[0][2]) == 4 and entries[0][2][2][:4] == b'\x89PNG'


def free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def listening_addresses(port: int) -> set:
  """Local addresses of the sockets listening on `port` (from /proc/net/tcp, tcp6)."""
  found = set()
  for table in ('/proc/net/tcp', '/proc/net/tcp6'):
    if not os.path.exists(table):
      continue
    for line in open(table).read().splitlines()[1:]:
      local, state = line.split()[1], line.split()[3]
      address, hex_port = local.split(':')
      if state == '0A' and int(hex_port, 16) == port:  # 0A: LISTEN
        found.add(address)
  return found


@pytest.mark.slow  # the `run` fixture trains in-process; TensorBoard starts in a few seconds
def test_make_tensorboard_serves_the_runs_on_loopback_only(run):
  """`make tensorboard` as a user starts it: on a run folder, 127.0.0.1, a free port; the
  scalar and image tags come back over HTTP; then it is stopped (bounded in time)."""
  _, run_dir, _, _, _ = run
  port = free_port()
  venv = os.path.dirname(os.path.dirname(sys.executable))
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  # -o: the venv stamp counts as up to date (the tests run inside that venv).
  cmd = ['make', '-s', '-C', root, '-o', os.path.join(venv, '.installed'), 'tensorboard',
         f'VENV={venv}', f'RUNS_DIR={os.path.dirname(run_dir)}', f'TB_PORT={port}']
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          start_new_session=True)
  base = f'http://127.0.0.1:{port}/data/plugin'
  try:
    deadline, tags = time.monotonic() + 90, None
    while time.monotonic() < deadline and proc.poll() is None:
      try:
        with urllib.request.urlopen(f'{base}/scalars/tags', timeout=5) as r:
          tags = json.load(r)
        if any(tags.values()):  # the event files are read a moment after the server starts
          break
      except OSError:
        pass
      time.sleep(0.5)
    assert proc.poll() is None, proc.stdout.read().decode(errors='replace')[-2000:]
    name = os.path.basename(run_dir)
    assert {'loss/total', 'snr', 'learning_rate'} <= set(tags[f'{name}/train']), tags
    assert {'nmse', 'snr'} <= set(tags[f'{name}/valid']), tags
    with urllib.request.urlopen(f'{base}/images/tags', timeout=5) as r:
      images = json.load(r)
    assert 'spectrogram/prediction' in images[f'{name}/valid'], images
    addresses = listening_addresses(port)
    assert addresses and addresses <= {'0100007F', '00000000000000000000000001000000'}, addresses
  finally:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
      proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
      os.killpg(proc.pid, signal.SIGKILL)
      proc.wait(timeout=10)


def test_spectrogram_image_layout():
  cfg = small_config(2, 2)
  rng = np.random.default_rng(0)
  context = rng.standard_normal((2, 16, 257, 4)).astype(np.float32)
  target = np.abs(rng.standard_normal((2, 11, 257, 1))).astype(np.float32)
  images = training.spectrogram_images(context, target, target, cfg)
  assert images['target'].shape == (2, 257, 11, 1)
  assert images['context_and_prediction'].shape == (2, 257, 37, 1)
  np.testing.assert_array_equal(images['context_and_prediction'][:, :, 13:24], images['prediction'])
  assert images['target'].min() >= 0 and images['target'].max() <= 1


@pytest.mark.slow  # the `run` fixture trains in-process
def test_other_config_in_same_folder_is_refused(run):
  cfg, run_dir, _, _, (_, _, options) = run
  other = small_config(batch_size=4, validation_interval=2)
  with pytest.raises(training.UserError, match='config.json: this run was started with a different'):
    training.Trainer(other, run_dir, options)


def test_bad_options_are_one_line_errors(tmp_path):
  cfg = small_config(2, 2)
  with pytest.raises(training.UserError, match='strategy must be one of'):
    training.Trainer(cfg, str(tmp_path), training.RunOptions(strategy='tpu'))
  with pytest.raises(training.UserError, match='precision must be one of'):
    training.Trainer(cfg, str(tmp_path), training.RunOptions(precision='float8'))


@pytest.mark.slow
def test_sigterm_stops_cleanly_with_a_checkpoint(tmp_path):
  """SIGTERM (e.g. a cluster pre-emption) ends the loop after the current step and saves."""
  cfg = small_config(batch_size=2, validation_interval=100, steps=50)
  context, target = examples(cfg, 2)
  train_fn, _ = dataset_fns(context, target, 2)
  calls = {'n': 0}

  def send_sigterm_later(x, y):
    calls['n'] += 1
    if calls['n'] == 3:
      os.kill(os.getpid(), signal.SIGTERM)
    return x, y

  def train_with_signal(seed):
    return train_fn(seed).map(lambda x, y: tf.py_function(send_sigterm_later, [x, y],
                                                          [tf.float32, tf.float32]))

  trainer = training.Trainer(cfg, str(tmp_path), training.RunOptions(
      checkpoint_every=100, log_every=100, progress=False))
  before = signal.getsignal(signal.SIGTERM)
  result = trainer.fit(train_with_signal)
  assert result['stopped_by_signal'] == signal.SIGTERM
  assert 1 <= result['step'] < 50
  assert trainer.manager.latest_checkpoint.endswith(f'ckpt-{result["step"]}')
  assert os.path.isfile(os.path.join(str(tmp_path), 'last.keras'))
  assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_plateau_drop_and_second_phase_length(tmp_path):
  cfg = small_config(batch_size=2, validation_interval=1)
  cfg = cfg.replace(train=dataclasses.replace(cfg.train, lr_drop_patience=2, steps_second_phase=7,
                                              steps=100))
  trainer = training.Trainer(cfg, str(tmp_path), training.RunOptions(progress=False))
  trainer.step.assign(5)
  trainer._maybe_drop(plateau=False)
  assert int(trainer.phase.numpy()) == 0 and trainer.total_steps() == 100
  trainer._maybe_drop(plateau=True)
  assert int(trainer.phase.numpy()) == 1 and int(trainer.drop_step.numpy()) == 5
  assert float(trainer.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
  assert trainer.total_steps() == 5 + 7  # the paper's "another 200k steps", here 7


@pytest.mark.slow  # the `run` fixture trains in-process
def test_a_run_ends_with_one_summary_line(run):
  cfg, run_dir, _, result, _ = run
  line = training.summary_line(run_dir, result, cfg.train.batch_size)
  with open(os.path.join(run_dir, training.BEST_RECORD)) as f:
    best = json.load(f)
  assert best['step'] in (2, 4) and np.isfinite(best['snr'])
  assert line.startswith(f'{run_dir}: step 4 of 4 (the schedule is done), 8 examples; best '
                         f"validation NMSE {best['nmse']:.4g}, SNR {best['snr']:.2f} dB at step "
                         f"{best['step']}: {run_dir}/best.keras; last: {run_dir}/last.keras")
  assert '\n' not in line


@pytest.mark.slow  # trains in-process for a few seconds
def test_a_time_budget_shows_a_time_bar_not_the_schedule(tmp_path, capsys):
  """With --time_budget_s the bar counts the budget's seconds (it counted to the schedule's
  steps, with an ETA of hours, then stopped at 10 %)."""
  cfg = small_config(batch_size=2, validation_interval=10000, steps=4000)
  context, target = examples(cfg, 2)
  train_fn, valid_fn = dataset_fns(context, target, 2)
  trainer = training.Trainer(cfg, str(tmp_path), training.RunOptions(
      checkpoint_every=10000, log_every=10000, time_budget_s=3))
  result = trainer.fit(train_fn, valid_fn)
  err = capsys.readouterr().err
  assert result['stopped_by'] == 'time_budget' and 0 < result['step'] < 4000
  assert 'time budget: 100%' in err and '3/3 s' in err and f'step {result["step"]}/4,000' in err
  assert '/4000 [' not in err  # no step bar counting to the schedule
  line = training.summary_line(str(tmp_path), result, 2)
  assert '(the time budget is used up)' in line and line.endswith('the same command continues it')
