"""Training the context encoder (paper §2.5, §3.3): its task of the one training loop
(training/trainer.py: run folder, resume, strategies, TensorBoard, time budget are that loop's).

What it does, step by step:
  * Adam (learning rate 1e-3) on the loss of `losses.total_loss`, one custom train step run
    under a tf.distribute strategy ('default', 'mirrored' for several GPUs or CPU virtual devices,
    'multi_worker' for several machines configured by TF_CONFIG).
  * Every cfg.train.validation_interval steps: validation NMSE / SNR on the gap coefficients;
    the best model so far is written to best.keras.
  * Learning-rate phase (§3.3): the rate drops to cfg.train.learning_rate_final at
    cfg.train.lr_drop_step (default cfg.train.steps_first_phase, the paper's ~600k) or, when
    cfg.train.lr_drop_patience > 0, after that many validations without improvement; training
    then continues for cfg.train.steps_second_phase more steps (or until cfg.train.steps).
    The schedule lives in the config (one run definition); RunOptions only say how to run.
  * Checkpoints (model, optimizer, step, phase, best validation, plateau counter) every
    `checkpoint_every` steps and at exit (end, SIGTERM, SIGINT); a restart with the same run
    folder resumes from the latest one. Data position: the training stream is not replayed;
    on resume it is rebuilt with the shuffle seed `cfg.train.seed + step` (a documented reshuffle).
  * TensorBoard (run_dir/train, run_dir/valid): total, reconstruction and L2 losses, SNR, NMSE,
    learning rate, examples/s, the fraction of time spent waiting for input, spectrogram images
    (target, prediction, context + prediction) and the config as text.

Mixed precision ('mixed_bfloat16', 'mixed_float16' with loss scaling) and XLA (jit) are options.
"""

import dataclasses
import json
import os
from typing import Callable, Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from audio_context_encoder.common import atomic
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.config import LOSSES, REDUCTIONS, Config
from audio_context_encoder.context_encoder import losses
from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.training import trainer as trainer_lib
from audio_context_encoder.training.trainer import BEST_RECORD, RunOptions, Validation

__all__ = ['BEST_RECORD', 'RunOptions', 'Trainer', 'ContextEncoderTask', 'check_run_config',
           'spectrogram_images', 'summary_line', 'UserError']

# The schedule fields of TrainConfig that a resume must keep (the --flags of the same names).
RESUME_FIELDS = ('steps', 'lr_drop_step', 'seed')


def _saved_config(saved: dict, cfg: Config) -> Config:
  """The config a run folder's config.json describes. Older folders kept the schedule apart
  ('run_options') or not at all: those values come from there, or are the current ones."""
  train = saved.get('train', {})
  legacy = saved.get('run_options') or {}
  schedule = {k: train.get(k, legacy.get(k, getattr(cfg.train, k))) for k in RESUME_FIELDS}
  old = Config.from_dict(saved)
  return old.replace(train=dataclasses.replace(old.train, **schedule))


def check_run_config(run_dir: str, cfg: Config) -> None:
  """Writes run_dir/config.json, or checks that a resumed run uses the same config, schedule
  (RESUME_FIELDS) included. A config.json of an older layout is rewritten in this one."""
  path = os.path.join(run_dir, 'config.json')
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    old = _saved_config(saved, cfg)
    schedule = {k: getattr(cfg.train, k) for k in RESUME_FIELDS}
    same_schedule = old.replace(train=dataclasses.replace(old.train, **schedule))
    if same_schedule != cfg:
      diff = [k for k, v in cfg.to_dict().items() if same_schedule.to_dict().get(k) != v]
      raise UserError(f'{path}: this run was started with a different config (sections {diff}); '
                      'use another output folder or the same preset and flags')
    changed = [k for k in RESUME_FIELDS if getattr(old.train, k) != schedule[k]]
    if changed:
      diff = ', '.join(f'--{k}={getattr(old.train, k)} (now {schedule[k]})' for k in changed)
      raise UserError(f'{path}: this run was started with {diff}; resume it with the same '
                      'values or train into another --name')
    if saved == cfg.to_dict():
      return
  atomic.write_json(path, cfg.to_dict(), indent=1)


def spectrogram_images(context: np.ndarray, target: np.ndarray, prediction: np.ndarray,
                       cfg: Config) -> Dict[str, np.ndarray]:
  """[k, bins, frames, 1] images in [0, 1] (dB over 80 dB, low frequencies at the bottom).

  Pictures of the network's own tensors (context features, target, prediction) for
  TensorBoard; nothing is transformed here. Spectrograms of signals, for figures, are
  plots.spectrogram_db."""

  def mag(x):
    return np.sqrt(np.sum(np.square(x), axis=-1)) if x.shape[-1] == 2 else x[..., 0]

  t, p = mag(target), mag(prediction)
  n = cfg.signal.clean_context_frames
  before = np.hypot(context[:, :n, :, 0], context[:, :n, :, 1])
  after = np.hypot(context[:, -n:, :, 2], context[:, -n:, :, 3])
  whole = np.concatenate([before, p, after], axis=1)
  ref = np.maximum(np.max(np.concatenate([before, t, after], axis=1), axis=(1, 2)), 1e-12)

  def image(x):
    db = 20 * np.log10(np.maximum(x, 1e-12) / ref[:, None, None])
    img = np.clip((db + 80.0) / 80.0, 0.0, 1.0)  # [k, frames, bins]
    return np.transpose(img, (0, 2, 1))[:, ::-1, :, None].astype(np.float32)

  return {'target': image(t), 'prediction': image(p), 'context_and_prediction': image(whole)}


def summary_line(run_dir: str, result: dict, batch_size: int) -> str:
  """The one line a training ends with: how far it got, why it stopped, the best validation,
  where the models are."""
  step, total = result['step'], result['total_steps']
  why = {'schedule': 'the schedule is done', 'time_budget': 'the time budget is used up',
         'signal': 'stopped by a signal', 'stop_at_step': 'stopped as asked',
         'early_stop': 'it stopped improving'}[result['stopped_by']]
  line = f'{run_dir}: step {step:,} of {total:,} ({why}), {step * batch_size:,} examples'
  try:
    with open(os.path.join(run_dir, BEST_RECORD)) as f:
      best = json.load(f)
    line += (f"; best validation NMSE {best['nmse']:.4g}, SNR {best['snr']:.2f} dB at step "
             f"{best['step']:,}: {os.path.join(run_dir, 'best.keras')}")
  except (OSError, ValueError, KeyError):
    line += '; no validation yet'
  line += f"; last: {os.path.join(run_dir, 'last.keras')}"
  return line + ('; the same command continues it' if step < total else '')


class ContextEncoderTask(trainer_lib.Task):
  """The context encoder of `cfg` as a task of the one training loop: Adam on losses.total_loss,
  validation NMSE (the best model's score) and SNR with spectrogram images, and §3.3's
  learning-rate phases (a drop at cfg.train.lr_drop_step or after lr_drop_patience validations
  without improvement, then steps_second_phase more steps)."""

  def __init__(self, cfg: Config, train_dataset_fn: Callable[[int], tf.data.Dataset] = None,
               valid_dataset_fn: Optional[Callable[[], tf.data.Dataset]] = None):
    if cfg.train.loss not in LOSSES:
      raise UserError(f'train.loss must be one of {LOSSES}, got {cfg.train.loss!r}')
    if cfg.train.batch_reduction not in REDUCTIONS:
      raise UserError(f'train.batch_reduction must be one of {REDUCTIONS}, '
                      f'got {cfg.train.batch_reduction!r}')
    self.cfg = cfg
    self.batch_size, self.seed = cfg.train.batch_size, cfg.train.seed
    self.train_dataset_fn, self.valid_dataset_fn = train_dataset_fn, valid_dataset_fn

  @property
  def validation_interval(self) -> int:
    return self.cfg.train.validation_interval if self.valid_dataset_fn is not None else 0

  def record(self) -> dict:
    return self.cfg.to_dict()

  def check_record(self, run_dir: str) -> None:
    check_run_config(run_dir, self.cfg)

  def build(self, options):
    self.options = options
    model = model_lib.build_model(self.cfg)
    self.l2_vars = losses.l2_variables(model, self.cfg)
    self._eval_step = tf.function(lambda x: model(x, training=False))
    return model

  def optimizer(self):
    return keras.optimizers.Adam(self.cfg.train.learning_rate, epsilon=1e-8)  # TF1 AdamOptimizer's eps

  def variables(self):
    self.phase = tf.Variable(0, dtype=tf.int64, trainable=False, name='lr_phase')
    self.drop_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name='lr_drop_step')
    return {'phase': self.phase, 'drop_step': self.drop_step}

  def train_dataset(self, start_step: int):
    return self.train_dataset_fn(self.cfg.train.seed + start_step)

  def loss(self, model, batch, global_batch_size, replicas):
    context, target = batch
    cfg = self.cfg
    pred = model(context, training=True)
    per_example = losses.per_example_loss(target, pred, cfg)
    # Per-replica shares that SUM (across replicas) to the loss of the whole batch.
    rec = losses.reduce_batch(per_example, cfg, global_batch_size=global_batch_size)
    l2 = losses.l2_term(self.l2_vars, cfg) / replicas
    total = rec + l2
    snr = losses.snr_db(target, pred)
    nmse = losses.nmse(target, pred)
    n = tf.cast(tf.shape(per_example)[0], tf.float32)
    return total, {'loss/total': total, 'loss/reconstruction': rec, 'loss/l2': l2,
                   'snr_sum': tf.reduce_sum(snr), 'nmse_sum': tf.reduce_sum(nmse), 'count': n}

  def log(self, sums, steps):
    out = {k: sums[k] / steps for k in ('loss/total', 'loss/reconstruction', 'loss/l2')}
    out['snr'] = sums['snr_sum'] / sums['count']
    out['nmse'] = sums['nmse_sum'] / sums['count']
    return out

  def validate(self, model, options) -> Optional[Validation]:
    """Mean loss/NMSE/SNR over the validation set, and images of its first batch."""
    if self.valid_dataset_fn is None:
      return None
    result = self.validate_on(self.valid_dataset_fn(), options)
    images = spectrogram_images(*result['first'], self.cfg)

    def write():
      for name, img in images.items():
        tf.summary.image(f'spectrogram/{name}', img, max_outputs=img.shape[0])

    scalars = {k: result[k] for k in ('nmse', 'snr', 'loss/reconstruction_per_example')}
    return Validation(scalars, score=result['nmse'], write=write,
                      record={'nmse': result['nmse'], 'snr': result['snr']})

  def validate_on(self, dataset, options) -> Dict[str, np.ndarray]:
    cfg = self.cfg
    rec, nmse, snr, count, first = 0.0, 0.0, 0.0, 0, None
    for i, (inputs, target) in enumerate(dataset):
      if options.valid_batches and i >= options.valid_batches:
        break
      pred = self._eval_step(inputs)
      rec += float(tf.reduce_sum(losses.per_example_loss(target, pred, cfg)))
      nmse += float(tf.reduce_sum(losses.nmse(target, pred)))
      snr += float(tf.reduce_sum(losses.snr_db(target, pred)))
      count += int(target.shape[0])
      if first is None:
        k = options.image_examples
        context = inputs[0] if isinstance(inputs, tuple) else inputs  # residual 'lpc': a pair
        first = (context[:k].numpy(), target[:k].numpy(), pred[:k].numpy())
    if not count:
      raise UserError('the validation dataset is empty')
    return {'nmse': nmse / count, 'snr': snr / count, 'loss/reconstruction_per_example': rec / count,
            'first': first}

  # ---- the learning-rate phases (§3.3) ----
  def learning_rate(self) -> float:
    t = self.cfg.train
    return t.learning_rate if int(self.phase.numpy()) == 0 else t.learning_rate_final

  def restored(self) -> None:
    self._optimizer.learning_rate = self.learning_rate()

  def total_steps(self) -> int:
    t = self.cfg.train
    cap = t.steps or (t.steps_first_phase + t.steps_second_phase)
    if int(self.phase.numpy()) == 1:
      cap = min(cap, int(self.drop_step.numpy()) + t.steps_second_phase)
    return cap

  def after_step(self, step, validation, since_best) -> None:
    patience = self.cfg.train.lr_drop_patience
    self.maybe_drop(validation is not None and bool(patience) and since_best >= patience)

  def maybe_drop(self, plateau: bool) -> None:
    if int(self.phase.numpy()) == 1:
      return
    step = int(self.step.numpy())
    at = self.cfg.train.lr_drop_step or self.cfg.train.steps_first_phase
    if step >= at or plateau:
      self.phase.assign(1)
      self.drop_step.assign(step)
      self._optimizer.learning_rate = self.learning_rate()

  def save_model(self, model, path: str) -> None:
    model_lib.save_model(model, self.cfg, path)


class Trainer(trainer_lib.Trainer):
  """The one training loop on the context encoder of `cfg`: `fit(train_dataset_fn,
  valid_dataset_fn)` trains until the schedule's end (or a budget, a signal)."""

  def __init__(self, cfg: Config, run_dir: str, options: RunOptions = RunOptions()):
    super().__init__(ContextEncoderTask(cfg), run_dir, options)
    self.cfg = cfg

  @property
  def phase(self) -> tf.Variable:
    return self.task.phase

  @property
  def drop_step(self) -> tf.Variable:
    return self.task.drop_step

  def learning_rate(self) -> float:
    return self.task.learning_rate()

  def _maybe_drop(self, plateau: bool) -> None:
    self.task.maybe_drop(plateau)

  def validate(self, dataset) -> Dict[str, np.ndarray]:
    """Mean loss/NMSE/SNR over `dataset` and its first batch (for images)."""
    return self.task.validate_on(dataset, self.options)

  def fit(self, train_dataset_fn: Callable[[int], tf.data.Dataset],
          valid_dataset_fn: Optional[Callable[[], tf.data.Dataset]] = None) -> Dict[str, float]:
    """Trains until total_steps(); returns the final step, phase, best validation NMSE."""
    self.task.train_dataset_fn, self.task.valid_dataset_fn = train_dataset_fn, valid_dataset_fn
    result = super().fit()
    result['phase'] = int(self.phase.numpy())
    result['best_valid_nmse'] = result.pop('best_valid_score')
    return result
