"""Training loop of the context encoder (paper §2.5, §3.3), resumable and distributable.

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
import math
import os
import signal
import time
from typing import Callable, Dict, Optional

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from audio_context_encoder.common import atomic
from audio_context_encoder.context_encoder import losses
from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.config import LOSSES, PRECISIONS, REDUCTIONS, STRATEGIES, Config
from audio_context_encoder.common.errors import UserError


@dataclasses.dataclass
class RunOptions:
  """How to run (not what to learn, nor the schedule: that is the Config, cfg.train)."""

  checkpoint_every: int = 1000
  log_every: int = 100
  valid_batches: int = 0  # 0 = the whole validation dataset
  image_examples: int = 3
  strategy: str = 'default'
  precision: str = 'float32'
  jit: bool = False
  progress: bool = True
  time_budget_s: float = 0  # stop (checkpoint, validate, save) after this much wall time; 0 = none
  stop_at_step: int = 0  # likewise, stop this invocation at that step; 0 = none (not a run change)


def make_strategy(name: str) -> tf.distribute.Strategy:
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    gpus = tf.config.list_logical_devices('GPU')
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices('CPU')]
    return tf.distribute.MirroredStrategy(devices)
  if name == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise UserError(f'strategy must be one of {STRATEGIES}, got {name!r}')


def _is_chief(strategy) -> bool:
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == 'chief':
    return True
  has_chief = 'chief' in resolver.cluster_spec().as_dict()
  return resolver.task_type == 'worker' and resolver.task_id == 0 and not has_chief


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


BEST_RECORD = 'best.json'  # beside best.keras: the step and validation NMSE/SNR it was saved at


def summary_line(run_dir: str, result: dict, batch_size: int) -> str:
  """The one line a training ends with: how far it got, why it stopped, the best validation,
  where the models are."""
  step, total = result['step'], result['total_steps']
  why = {'schedule': 'the schedule is done', 'time_budget': 'the time budget is used up',
         'signal': 'stopped by a signal', 'stop_at_step': 'stopped as asked'}[result['stopped_by']]
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


class Trainer:
  """Builds model, optimizer and checkpoint state under a strategy; `fit` runs the loop."""

  def __init__(self, cfg: Config, run_dir: str, options: RunOptions = RunOptions()):
    if options.precision not in PRECISIONS:
      raise UserError(f'precision must be one of {PRECISIONS}, got {options.precision!r}')
    if cfg.train.loss not in LOSSES:
      raise UserError(f'train.loss must be one of {LOSSES}, got {cfg.train.loss!r}')
    if cfg.train.batch_reduction not in REDUCTIONS:
      raise UserError(f'train.batch_reduction must be one of {REDUCTIONS}, '
                      f'got {cfg.train.batch_reduction!r}')
    self.cfg, self.run_dir, self.options = cfg, run_dir, options
    self.strategy = make_strategy(options.strategy)
    self.chief = _is_chief(self.strategy)
    self.replicas = self.strategy.num_replicas_in_sync
    if cfg.train.batch_size % self.replicas:
      raise UserError(f'batch size {cfg.train.batch_size} is not divisible by the '
                      f'{self.replicas} replicas')
    os.makedirs(run_dir, exist_ok=True)
    if self.chief:
      check_run_config(run_dir, cfg)
    keras.mixed_precision.set_global_policy(options.precision)
    keras.utils.set_random_seed(cfg.train.seed)
    with self.strategy.scope():
      self.model = model_lib.build_model(cfg)
      opt = keras.optimizers.Adam(cfg.train.learning_rate, epsilon=1e-8)  # TF1 AdamOptimizer's eps
      if options.precision == 'mixed_float16':
        opt = keras.optimizers.LossScaleOptimizer(opt)
      self.optimizer = opt
      self.optimizer.build(self.model.trainable_variables)
      self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
      self.phase = tf.Variable(0, dtype=tf.int64, trainable=False, name='lr_phase')
      self.drop_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name='lr_drop_step')
      self.best = tf.Variable(math.inf, dtype=tf.float32, trainable=False, name='best_valid_nmse')
      self.since_best = tf.Variable(0, dtype=tf.int64, trainable=False, name='validations_since_best')
    self.l2_vars = losses.l2_variables(self.model, cfg)
    self.checkpoint = tf.train.Checkpoint(
        model=self.model, optimizer=self.optimizer, step=self.step, phase=self.phase,
        drop_step=self.drop_step, best=self.best, since_best=self.since_best)
    ckpt_dir = os.path.join(run_dir, 'checkpoints')
    if not self.chief:  # other workers write throw-away copies (MultiWorkerMirroredStrategy)
      ckpt_dir = os.path.join(run_dir, f'.worker-{self.strategy.cluster_resolver.task_id}')
    self.manager = tf.train.CheckpointManager(self.checkpoint, ckpt_dir, max_to_keep=3)
    self.resumed_from = 0
    if self.manager.latest_checkpoint:
      self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
      self.resumed_from = int(self.step.numpy())
    self._set_learning_rate()
    self._train_step = self._make_train_step()
    self._eval_step = tf.function(lambda x: self.model(x, training=False))

  # ---- learning-rate phase ----
  def learning_rate(self) -> float:
    t = self.cfg.train
    return t.learning_rate if int(self.phase.numpy()) == 0 else t.learning_rate_final

  def _set_learning_rate(self):
    self.optimizer.learning_rate = self.learning_rate()

  def total_steps(self) -> int:
    t = self.cfg.train
    cap = t.steps or (t.steps_first_phase + t.steps_second_phase)
    if int(self.phase.numpy()) == 1:
      cap = min(cap, int(self.drop_step.numpy()) + t.steps_second_phase)
    return cap

  def _maybe_drop(self, plateau: bool):
    if int(self.phase.numpy()) == 1:
      return
    step = int(self.step.numpy())
    at = self.cfg.train.lr_drop_step or self.cfg.train.steps_first_phase
    if step >= at or plateau:
      self.phase.assign(1)
      self.drop_step.assign(step)
      self._set_learning_rate()

  # ---- the step ----
  def _make_train_step(self):
    cfg, model, opt, replicas = self.cfg, self.model, self.optimizer, self.replicas
    global_batch = cfg.train.batch_size
    scaled = isinstance(opt, keras.optimizers.LossScaleOptimizer)

    def grads(context, target):
      with tf.GradientTape() as tape:
        pred = model(context, training=True)
        per_example = losses.per_example_loss(target, pred, cfg)
        # Per-replica shares that SUM (across replicas) to the loss of the whole batch.
        rec = losses.reduce_batch(per_example, cfg, global_batch_size=global_batch)
        l2 = losses.l2_term(self.l2_vars, cfg) / replicas
        total = rec + l2
        loss = opt.scale_loss(total) if scaled else total
      g = tape.gradient(loss, model.trainable_variables)
      snr = losses.snr_db(target, pred)
      nmse = losses.nmse(target, pred)
      n = tf.cast(tf.shape(per_example)[0], tf.float32)
      return g, {'loss/total': total, 'loss/reconstruction': rec, 'loss/l2': l2,
                 'snr_sum': tf.reduce_sum(snr), 'nmse_sum': tf.reduce_sum(nmse), 'count': n}

    if self.options.jit:
      grads = tf.function(grads, jit_compile=True)

    def replica_step(context, target):
      g, stats = grads(context, target)
      opt.apply_gradients(zip(g, model.trainable_variables))
      return stats

    @tf.function
    def train_step(batch):
      stats = self.strategy.run(replica_step, args=batch)
      return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
              for k, v in stats.items()}

    return train_step

  # ---- validation ----
  def validate(self, dataset) -> Dict[str, np.ndarray]:
    """Mean loss/NMSE/SNR over the validation set and the first batch for images."""
    cfg = self.cfg
    rec, nmse, snr, count, first = 0.0, 0.0, 0.0, 0, None
    for i, (inputs, target) in enumerate(dataset):
      if self.options.valid_batches and i >= self.options.valid_batches:
        break
      pred = self._eval_step(inputs)
      rec += float(tf.reduce_sum(losses.per_example_loss(target, pred, cfg)))
      nmse += float(tf.reduce_sum(losses.nmse(target, pred)))
      snr += float(tf.reduce_sum(losses.snr_db(target, pred)))
      count += int(target.shape[0])
      if first is None:
        k = self.options.image_examples
        context = inputs[0] if isinstance(inputs, tuple) else inputs  # residual 'lpc': a pair
        first = (context[:k].numpy(), target[:k].numpy(), pred[:k].numpy())
    if not count:
      raise UserError('the validation dataset is empty')
    return {'nmse': nmse / count, 'snr': snr / count, 'loss/reconstruction_per_example': rec / count,
            'first': first}

  # ---- the loop ----
  def fit(self, train_dataset_fn: Callable[[int], tf.data.Dataset],
          valid_dataset_fn: Optional[Callable[[], tf.data.Dataset]] = None) -> Dict[str, float]:
    """Trains until total_steps(); returns the final step, phase, best validation NMSE."""
    opts = self.options
    writers = self._open_writers()
    dataset = train_dataset_fn(self.cfg.train.seed + int(self.step.numpy()))
    iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
    stop = {'signal': None}
    previous = self._catch_signals(stop)
    started = time.monotonic()
    deadline = started + opts.time_budget_s if opts.time_budget_s else math.inf
    bar = self._progress_bar() if opts.progress and self.chief else None
    stop_at = opts.stop_at_step or math.inf
    log = _Window(int(self.step.numpy()))
    validated_at = None
    try:
      while (int(self.step.numpy()) < min(self.total_steps(), stop_at) and stop['signal'] is None
             and time.monotonic() < deadline):
        step, stats = self._step(iterator, log)
        if bar is not None:
          bar.update(min(time.monotonic() - started, opts.time_budget_s) - bar.n
                     if opts.time_budget_s else 1)
          bar.set_postfix_str(f'step {step:,}/{self.total_steps():,}, '
                              f'loss {float(stats["loss/total"]):.4g}')
        if step % opts.log_every == 0 or step == self.total_steps():
          self._log_training(writers, step, log)
        t_side = time.perf_counter()  # validation and checkpoints do not count as training time
        if self._after_step(step, valid_dataset_fn, writers):
          validated_at = step
        log.t_last += time.perf_counter() - t_side
    finally:
      if bar is not None:
        bar.close()
      for s, h in previous.items():
        signal.signal(s, h)
    self._finish(valid_dataset_fn, writers, stop['signal'] is None, validated_at)
    step = int(self.step.numpy())
    stopped_by = ('signal' if stop['signal'] is not None else 'schedule' if step >= self.total_steps()
                  else 'stop_at_step' if step >= stop_at else 'time_budget')
    return {'step': step, 'phase': int(self.phase.numpy()), 'total_steps': self.total_steps(),
            'best_valid_nmse': float(self.best.numpy()), 'stopped_by_signal': stop['signal'],
            'stopped_by': stopped_by}

  def _progress_bar(self) -> tqdm:
    """Steps of the schedule, or with a time budget the budget's seconds: the run stops at
    whichever ends first, and a step bar would count to a schedule the budget never reaches."""
    if not self.options.time_budget_s:
      return tqdm(total=self.total_steps(), initial=int(self.step.numpy()), unit='step',
                  dynamic_ncols=True)
    return tqdm(total=round(self.options.time_budget_s), unit='s', desc='time budget',
                dynamic_ncols=True,
                bar_format='{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} s '
                           '[{elapsed}<{remaining}{postfix}]')

  # ---- the steps of fit ----
  def _open_writers(self) -> dict:
    """TensorBoard writers (chief only), the config written as text at the current step."""
    if not self.chief:
      return {}
    writers = {k: tf.summary.create_file_writer(os.path.join(self.run_dir, k))
               for k in ('train', 'valid')}
    with writers['train'].as_default(step=int(self.step.numpy())):
      tf.summary.text('config', '```\n' + json.dumps(self.cfg.to_dict(), indent=1) + '\n```')
      tf.summary.text('run_options', '```\n' + json.dumps(dataclasses.asdict(self.options), indent=1)
                      + '\n```')
    return writers

  @staticmethod
  def _catch_signals(stop: dict) -> dict:
    """SIGTERM/SIGINT end the loop after the current step; returns the handlers to put back."""
    def on_signal(signum, _frame):
      stop['signal'] = signum

    previous = {}
    for s in (signal.SIGTERM, signal.SIGINT):
      try:
        previous[s] = signal.signal(s, on_signal)
      except ValueError:  # not the main thread
        pass
    return previous

  def _step(self, iterator, log: '_Window'):
    """One training step; its statistics are added to `log`."""
    t0 = time.perf_counter()
    batch = next(iterator)
    log.wait += time.perf_counter() - t0
    stats = self._train_step(batch)
    self.step.assign_add(1)
    for k, v in stats.items():
      log.acc[k] = log.acc.get(k, 0.0) + float(v)
    return int(self.step.numpy()), stats

  def _log_training(self, writers: dict, step: int, log: '_Window') -> None:
    """Means since the last log line to TensorBoard; starts a new window."""
    elapsed = time.perf_counter() - log.t_last
    n, acc = step - log.n_last, log.acc
    if self.chief:
      with writers['train'].as_default(step=step):
        for k in ('loss/total', 'loss/reconstruction', 'loss/l2'):
          tf.summary.scalar(k, acc[k] / n)
        tf.summary.scalar('snr', acc['snr_sum'] / acc['count'])
        tf.summary.scalar('nmse', acc['nmse_sum'] / acc['count'])
        tf.summary.scalar('learning_rate', self.learning_rate())
        tf.summary.scalar('examples_per_sec', n * self.cfg.train.batch_size / elapsed)
        tf.summary.scalar('input_wait_fraction', log.wait / elapsed)
      writers['train'].flush()  # a killed run keeps its curve up to here
    log.reset(step)

  def _after_step(self, step: int, valid_dataset_fn, writers: dict) -> bool:
    """Validation when due, the learning-rate drop, a checkpoint when due; True if validated."""
    plateau, validated = False, False
    if valid_dataset_fn is not None and step % self.cfg.train.validation_interval == 0:
      plateau = self._validation(valid_dataset_fn(), writers, step)
      validated = True
    self._maybe_drop(plateau)
    if step % self.options.checkpoint_every == 0:
      self.manager.save(checkpoint_number=step)
    return validated

  def _finish(self, valid_dataset_fn, writers: dict, natural_end: bool, validated_at) -> None:
    """Validates the last steps (so best.keras covers them), checkpoints, writes last.keras."""
    step = int(self.step.numpy())
    if (valid_dataset_fn is not None and natural_end and step > 0 and validated_at != step
        and step % self.cfg.train.validation_interval):
      self._validation(valid_dataset_fn(), writers, step)
    self.manager.save(checkpoint_number=step)
    if self.chief:
      model_lib.save_model(self.model, self.cfg, os.path.join(self.run_dir, 'last.keras'))
      for w in writers.values():
        w.flush()

  def _validation(self, dataset, writers, step) -> bool:
    """Validates, logs, keeps the best model; True when the plateau patience is used up."""
    result = self.validate(dataset)
    if self.chief:
      with writers['valid'].as_default(step=step):
        tf.summary.scalar('nmse', result['nmse'])
        tf.summary.scalar('snr', result['snr'])
        tf.summary.scalar('loss/reconstruction_per_example', result['loss/reconstruction_per_example'])
        for name, img in spectrogram_images(*result['first'], self.cfg).items():
          tf.summary.image(f'spectrogram/{name}', img, max_outputs=img.shape[0])
      writers['valid'].flush()
    if result['nmse'] < float(self.best.numpy()):
      self.best.assign(result['nmse'])
      self.since_best.assign(0)
      if self.chief:
        model_lib.save_model(self.model, self.cfg, os.path.join(self.run_dir, 'best.keras'))
        atomic.write_json(os.path.join(self.run_dir, BEST_RECORD),
                          {'step': step, 'nmse': result['nmse'], 'snr': result['snr']}, indent=1)
    else:
      self.since_best.assign_add(1)
    patience = self.cfg.train.lr_drop_patience
    return bool(patience) and int(self.since_best.numpy()) >= patience


class _Window:
  """Training statistics accumulated between two TensorBoard log lines."""

  def __init__(self, step: int):
    self.reset(step)

  def reset(self, step: int) -> None:
    self.acc, self.wait, self.t_last, self.n_last = {}, 0.0, time.perf_counter(), step
