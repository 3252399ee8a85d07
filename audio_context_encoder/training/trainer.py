"""The package's one training loop, model-agnostic (magenta/ddsp's Trainer as the model): a `Task`
says what is trained (its model, batches, loss, summaries, validation and schedule), the
`Trainer` runs it. The context encoder (context_encoder/training.py), the long-gap networks
(longgap/trainer.py) and the perceptual-distance classifiers (longgap/classifier_training.py) are
three tasks of it.

One run folder layout, whatever the task:
  config.json   what the run is (Task.record); a resume must describe the same run
  checkpoints/  model, optimizer, step, best validation score, the task's own state; the latest
                is restored when the folder is run again (the one resume rule)
  train/, valid/  TensorBoard: the task's training scalars (window means every log_every steps),
                examples/s, the input-wait fraction, the learning rate; its validation scalars
                and summaries (images, audio); the record and the run options as text
  best.keras, best.json  the model at the best validation score (lower is better) and that score
  last.keras    the model when the run stopped
The loop: one step under a tf.distribute strategy ('default', 'mirrored', 'multi_worker' by
TF_CONFIG; only the chief writes models, best.json and events), validation every
task.validation_interval steps, checkpoints every checkpoint_every, until task.total_steps(), a
time budget, stop_at_step, SIGTERM or SIGINT (after the current step, with a checkpoint), or the
task's early stop. Mixed precision ('mixed_bfloat16', 'mixed_float16' with loss scaling) and XLA
(jit) are options.
"""

import abc
import dataclasses
import json
import math
import os
import signal
import time
from typing import Callable, Dict, Optional

import keras
import tensorflow as tf
from tqdm import tqdm

from audio_context_encoder.common import atomic
from audio_context_encoder.common.errors import UserError
from audio_context_encoder.config import PRECISIONS, STRATEGIES

CONFIG, BEST_MODEL, BEST_RECORD, LAST_MODEL = 'config.json', 'best.keras', 'best.json', 'last.keras'


@dataclasses.dataclass
class RunOptions:
  """How to run (not what to learn, nor the schedule: that is the task's)."""

  checkpoint_every: int = 1000
  log_every: int = 100
  valid_batches: int = 0  # 0 = the whole validation dataset (tasks that validate on batches)
  image_examples: int = 3
  strategy: str = 'default'
  precision: str = 'float32'
  jit: bool = False
  progress: bool = True
  time_budget_s: float = 0  # stop (checkpoint, validate, save) after this much wall time; 0 = none
  stop_at_step: int = 0  # likewise, stop this invocation at that step; 0 = none (not a run change)


@dataclasses.dataclass
class Validation:
  """What a task's validation returns: scalars for TensorBoard, the score the best model is kept
  by (lower is better; None: no best model), and `write`, more summaries (called in the valid
  writer's context, chief only)."""

  scalars: Dict[str, float]
  score: Optional[float] = None
  write: Optional[Callable[[], None]] = None
  record: Optional[dict] = None  # best.json's fields beside the step (default: the scalars)


class Task(abc.ABC):
  """What a run trains. The Trainer calls, in this order: build (under the strategy's scope),
  variables, train_dataset, then per step `loss` inside a GradientTape; `validate` when due;
  after_step every step; save_model for best.keras and last.keras."""

  batch_size: int = 1  # the global batch (examples/s)
  step: tf.Variable = None  # the run's step, set by the Trainer before `variables`
  since_best: tf.Variable = None  # validations since the best score, likewise
  seed: int = 0
  validation_interval: int = 0  # 0: no validation

  @abc.abstractmethod
  def record(self) -> dict:
    """What the run is (config.json): a run folder is resumed only with the same."""

  def check_record(self, run_dir: str) -> None:
    """Writes config.json, or refuses a run folder whose config.json describes another run."""
    path = os.path.join(run_dir, CONFIG)
    record = json.loads(json.dumps(self.record()))  # tuples -> lists, as read back
    if os.path.exists(path):
      with open(path) as f:
        saved = json.load(f)
      if saved != record:
        diff = sorted(k for k in set(saved) | set(record) if saved.get(k) != record.get(k))
        raise UserError(f'{path}: this run was made with other settings ({", ".join(diff)}); '
                        'train into another folder (--name) or with the same settings')
      return
    atomic.write_json(path, record, indent=1)

  @abc.abstractmethod
  def build(self, options: RunOptions) -> keras.Model:
    """The model (under the strategy's scope); the optimizer is `optimizer()`."""

  def optimizer(self) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(1e-3)

  def variables(self) -> Dict[str, tf.Variable]:
    """The task's own checkpointed state (a learning-rate phase, ...), made under the scope."""
    return {}

  @abc.abstractmethod
  def train_dataset(self, start_step: int) -> tf.data.Dataset:
    """The training batches from step `start_step` on (a resumed run starts there)."""

  @abc.abstractmethod
  def loss(self, model, batch, global_batch_size: int, replicas: int):
    """(loss to differentiate, {name: value}) of one replica's share of the batch; the values
    are summed over replicas and, for `log`, over the steps of a window."""

  def log(self, sums: Dict[str, float], steps: int) -> Dict[str, float]:
    """TensorBoard training scalars from the sums of a window of `steps` steps: their means."""
    return {k: v / steps for k, v in sums.items()}

  def validate(self, model, options: RunOptions) -> Optional[Validation]:
    return None

  def total_steps(self) -> int:
    raise NotImplementedError

  def restored(self) -> None:
    """Called once the checkpoint (if any) is restored: set what follows from the state."""

  def after_step(self, step: int, validation: Optional[Validation], since_best: int) -> None:
    """The schedule (learning-rate drops), after a step and its validation if there was one
    (since_best: validations since the best score, 0 when this one is the best)."""

  def stop_early(self) -> bool:
    """Whether the run is over before total_steps (early stopping)."""
    return False

  def learning_rate(self) -> float:
    return float(self._optimizer.learning_rate.numpy()) if hasattr(self, '_optimizer') else math.nan

  @abc.abstractmethod
  def save_model(self, model, path: str) -> None:
    """Writes the model (atomically) so that the package loads it back."""


_STRATEGIES: Dict[str, tf.distribute.Strategy] = {}


def make_strategy(name: str) -> tf.distribute.Strategy:
  """The strategy `name`, made once per process. 'multi_worker' configures TensorFlow's
  collective ops, which must happen before TensorFlow runs anything: entry points call this
  first, before they read data (the Trainer then gets the same strategy)."""
  if name not in _STRATEGIES:
    _STRATEGIES[name] = _new_strategy(name)
  return _STRATEGIES[name]


def _new_strategy(name: str) -> tf.distribute.Strategy:
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    gpus = tf.config.list_logical_devices('GPU')
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices('CPU')]
    return tf.distribute.MirroredStrategy(devices)
  if name == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise UserError(f'strategy must be one of {STRATEGIES}, got {name!r}')


def loopback_cluster(n: int) -> list:
  """n 'host:port' addresses of free ports on 127.0.0.1: a TF_CONFIG cluster of n workers on this
  machine (the multi-worker test and benchmark; docs/scaling.md).

  The ports are taken below the kernel's ephemeral range: a port from that range (what binding
  port 0 gives) can be handed to another process's outgoing connection before the worker binds
  it (tests run two at a time), and the worker's gRPC server then fails to start."""
  import random
  import socket
  try:
    with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
      low = int(f.read().split()[0])
  except (OSError, ValueError, IndexError):
    low = 32768
  ports = []
  while len(ports) < n:
    port = random.randrange(10000, max(low, 10001 + n))
    try:
      with socket.socket() as s:
        s.bind(('0.0.0.0', port))
    except OSError:
      continue
    if port not in ports:
      ports.append(port)
  return [f'127.0.0.1:{p}' for p in ports]


def is_chief(strategy) -> bool:
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == 'chief':
    return True
  has_chief = 'chief' in resolver.cluster_spec().as_dict()
  return resolver.task_type == 'worker' and resolver.task_id == 0 and not has_chief


class WorkerLost(UserError):
  """A multi-worker run lost a worker (killed, pre-empted, its machine gone): one line, what is
  kept and how to go on."""


def _lost_reason(error: Exception) -> str:
  """The line of a collective op's error that names the lost task."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  named = [line for line in lines if 'aborted by' in line or 'heartbeat' in line]
  return (named or lines or [type(error).__name__])[0][:300]


class Trainer:
  """Builds the task's model, optimizer and checkpoint state under a strategy; `fit` runs it."""

  def __init__(self, task: Task, run_dir: str, options: RunOptions = RunOptions()):
    if options.precision not in PRECISIONS:
      raise UserError(f'precision must be one of {PRECISIONS}, got {options.precision!r}')
    self.task, self.run_dir, self.options = task, run_dir, options
    self.strategy = make_strategy(options.strategy)
    self.chief = is_chief(self.strategy)
    self.replicas = self.strategy.num_replicas_in_sync
    if task.batch_size % self.replicas:
      raise UserError(f'batch size {task.batch_size} is not divisible by the '
                      f'{self.replicas} replicas')
    os.makedirs(run_dir, exist_ok=True)
    if self.chief:
      task.check_record(run_dir)
    keras.mixed_precision.set_global_policy(options.precision)
    keras.utils.set_random_seed(task.seed)
    with self.strategy.scope():
      self.model = task.build(options)
      opt = task.optimizer()
      if options.precision == 'mixed_float16':
        opt = keras.optimizers.LossScaleOptimizer(opt)
      self.optimizer = task._optimizer = opt
      self.optimizer.build(self.model.trainable_variables)
      self.step = task.step = tf.Variable(0, dtype=tf.int64, trainable=False, name='step')
      self.best = tf.Variable(math.inf, dtype=tf.float32, trainable=False, name='best_valid_score')
      self.since_best = task.since_best = tf.Variable(0, dtype=tf.int64, trainable=False,
                                                      name='validations_since_best')
      extra = task.variables()
    self.checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.optimizer, step=self.step,
                                          best=self.best, since_best=self.since_best, **extra)
    ckpt_dir = os.path.join(run_dir, 'checkpoints')
    if not self.chief:  # other workers write throw-away copies (MultiWorkerMirroredStrategy)
      ckpt_dir = os.path.join(run_dir, f'.worker-{self.strategy.cluster_resolver.task_id}')
    self.manager = tf.train.CheckpointManager(self.checkpoint, ckpt_dir, max_to_keep=3)
    self.resumed_from = 0
    if self.manager.latest_checkpoint:
      self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
      self.resumed_from = int(self.step.numpy())
    task.restored()
    self._train_step = self._make_train_step()

  def total_steps(self) -> int:
    return self.task.total_steps()

  # ---- the step ----
  def _make_train_step(self):
    task, model, opt, replicas = self.task, self.model, self.optimizer, self.replicas
    global_batch = task.batch_size
    scaled = isinstance(opt, keras.optimizers.LossScaleOptimizer)

    def grads(batch):
      with tf.GradientTape() as tape:
        total, stats = task.loss(model, batch, global_batch, replicas)
        loss = opt.scale_loss(total) if scaled else total
      return tape.gradient(loss, model.trainable_variables), stats

    if self.options.jit:
      grads = tf.function(grads, jit_compile=True)

    def replica_step(*batch):
      g, stats = grads(batch)
      opt.apply_gradients(zip(g, model.trainable_variables))
      return stats

    @tf.function
    def train_step(batch):
      stats = self.strategy.run(replica_step, args=tuple(batch))
      return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
              for k, v in stats.items()}

    return train_step

  # ---- the loop ----
  def fit(self) -> Dict[str, float]:
    """Trains until the task's total_steps(); returns the final step, the best validation score
    and why it stopped."""
    opts = self.options
    writers = self._open_writers()
    dataset = self.task.train_dataset(int(self.step.numpy()))
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
             and time.monotonic() < deadline and not self.task.stop_early()):
        step, stats = self._step(iterator, log)
        if bar is not None:
          bar.update(min(time.monotonic() - started, opts.time_budget_s) - bar.n
                     if opts.time_budget_s else 1)
          shown = stats.get('loss/total', stats.get('total'))
          bar.set_postfix_str(f'step {step:,}/{self.total_steps():,}'
                              + (f', loss {float(shown):.4g}' if shown is not None else ''))
        if step % opts.log_every == 0 or step == self.total_steps():
          self._log_training(writers, step, log)
        t_side = time.perf_counter()  # validation and checkpoints do not count as training time
        if self._after_step(step, writers):
          validated_at = step
        log.t_last += time.perf_counter() - t_side
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError) as e:
      if self.replicas == 1 and not getattr(self.strategy, 'cluster_resolver', None):
        raise
      last = self.manager.latest_checkpoint
      kept = f'its last checkpoint ({os.path.basename(last)}) is kept' if last else 'no checkpoint yet'
      raise WorkerLost(f'{self.run_dir}: a worker of this multi-worker run was lost '
                       f'({_lost_reason(e)}); {kept}: start every worker again with the same '
                       'command to resume') from None
    finally:
      if bar is not None:
        bar.close()
      for s, h in previous.items():
        signal.signal(s, h)
    self._finish(writers, stop['signal'] is None, validated_at)
    step = int(self.step.numpy())
    stopped_by = ('signal' if stop['signal'] is not None else 'schedule' if step >= self.total_steps()
                  else 'early_stop' if self.task.stop_early()
                  else 'stop_at_step' if step >= stop_at else 'time_budget')
    return {'step': step, 'total_steps': self.total_steps(), 'best_valid_score': float(self.best.numpy()),
            'stopped_by_signal': stop['signal'], 'stopped_by': stopped_by}

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

  def _open_writers(self) -> dict:
    """TensorBoard writers (chief only), the record written as text at the current step."""
    if not self.chief:
      return {}
    writers = {k: tf.summary.create_file_writer(os.path.join(self.run_dir, k))
               for k in ('train', 'valid')}
    with writers['train'].as_default(step=int(self.step.numpy())):
      tf.summary.text('config', '```\n' + json.dumps(self.task.record(), indent=1) + '\n```')
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
    n = step - log.n_last
    if self.chief and n:
      with writers['train'].as_default(step=step):
        for k, v in self.task.log(log.acc, n).items():
          tf.summary.scalar(k, v)
        tf.summary.scalar('learning_rate', self.task.learning_rate())
        tf.summary.scalar('examples_per_sec', n * self.task.batch_size / elapsed)
        tf.summary.scalar('input_wait_fraction', log.wait / elapsed)
      writers['train'].flush()  # a killed run keeps its curve up to here
    log.reset(step)

  def _after_step(self, step: int, writers: dict) -> bool:
    """Validation when due, the task's schedule, a checkpoint when due; True if validated."""
    interval = self.task.validation_interval
    validation = None
    if interval and step % interval == 0:
      validation = self._validation(writers, step)
    self.task.after_step(step, validation, int(self.since_best.numpy()))
    if step % self.options.checkpoint_every == 0:
      self.manager.save(checkpoint_number=step)
    return validation is not None

  def _finish(self, writers: dict, natural_end: bool, validated_at) -> None:
    """Validates the last steps (so best.keras covers them), checkpoints, writes last.keras."""
    step = int(self.step.numpy())
    interval = self.task.validation_interval
    if interval and natural_end and step > 0 and validated_at != step and step % interval:
      self._validation(writers, step)
    self.manager.save(checkpoint_number=step)
    if self.chief:
      self.task.save_model(self.model, os.path.join(self.run_dir, LAST_MODEL))
      for w in writers.values():
        w.flush()

  def _validation(self, writers, step) -> Optional[Validation]:
    """Validates, logs, keeps the best model (and counts the validations since it)."""
    result = self.task.validate(self.model, self.options)
    if result is None:
      return None
    if self.chief:
      with writers['valid'].as_default(step=step):
        for k, v in result.scalars.items():
          tf.summary.scalar(k, v)
        if result.write:
          result.write()
      writers['valid'].flush()
    improved = result.score is not None and result.score < float(self.best.numpy())
    if improved:
      self.best.assign(result.score)
      self.since_best.assign(0)
      if self.chief:
        self.task.save_model(self.model, os.path.join(self.run_dir, BEST_MODEL))
        atomic.write_json(os.path.join(self.run_dir, BEST_RECORD),
                          {'step': step, **(result.record or result.scalars)}, indent=1)
    elif result.score is not None:
      self.since_best.assign_add(1)
    return result


class _Window:
  """Training statistics accumulated between two TensorBoard log lines."""

  def __init__(self, step: int):
    self.reset(step)

  def reset(self, step: int) -> None:
    self.acc, self.wait, self.t_last, self.n_last = {}, 0.0, time.perf_counter(), step
