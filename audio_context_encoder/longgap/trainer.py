"""Training a long-gap network (Chang et al. 2019, Fig. 2): its task of the one training loop
(training/trainer.py: run folder, resume, strategies, TensorBoard, time budget are that loop's).
Behind experiments/longgap/train.py; docs/longgap_models.md.
"""

import dataclasses
import itertools
import os
import pathlib

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from audio_context_encoder.common.errors import DatasetError  # noqa: E402
from audio_context_encoder.data import clip_dataset  # noqa: E402
from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.training import trainer as trainer_lib  # noqa: E402
from audio_context_encoder.dsp import spectrogram  # noqa: E402
from audio_context_encoder.longgap import config, metrics, model_config, models, training  # noqa: E402


def build(kind: str, cfg, protocol: config.Protocol) -> keras.Model:
  if kind == 'wave':
    return models.build_wave_model(cfg)
  frames = 1 + protocol.clip_samples // cfg.hop
  return models.build_spectrogram_model(cfg, frames, cfg.n_fft // 2 + 1)


def batch(clips: np.ndarray, protocol: config.Protocol, size: int, seed: int, step: int):
  """(clips [size, T], masks [size, T]) of training step `step`: a function of (seed, step)."""
  rng = np.random.default_rng([seed, step])
  idx = rng.integers(0, len(clips), size)
  x = np.stack([protocol.train_crop(clips[i], rng) for i in idx]).astype(np.float32)
  return x, protocol.random_train_mask(rng, size).astype(np.float32)


def classifier_psi(path, kind: str):
  """Eq. 3's Psi from a saved classifier, for the waveform network (the paper's L1+WaveP and,
  through the classifier's own STFT, L1+SpecP). The spectrogram network predicts a log |STFT|
  with the method STFT (hop 128), not the classifiers' input (hop 200), so it is refused."""
  if kind != 'wave':
    raise ValueError('a perceptual classifier trains the waveform network only: the spectrogram '
                     "network's output is not the classifiers' input (another STFT)")
  from audio_context_encoder.longgap import classifier_training  # TensorFlow models; only when asked for
  return classifier_training.file_psi(path)[1]


def inpaint(kind, model, cfg, clips, mask, gl_iterations: int, phase: str = 'gl') -> np.ndarray:
  """Waveforms of the clips inpainted by the model (the spectrogram one through `phase`:
  phase_options.PHASES)."""
  if kind == 'wave':
    return models.inpaint_waveform(model, clips, mask)
  return models.inpaint_spectrogram(model, clips, mask > 0, cfg, phase, gl_iterations)


def validate(kind, model, cfg, clips, protocol, gl_iterations: int = 32, phase: str = 'gl'):
  """(scalars, first clip's (target, inpainted)) on the fixed test mask: the training loss,
  the waveform masked L1 (eq. 2, Table 2's ML1) of the model and of the masked input, and the
  model's spectral SNR in the gap (the masked input's is 0 dB)."""
  if not len(clips):
    return {}, None
  m = protocol.test_mask_array(len(clips)).astype(np.float32)
  loss, out, view = 0.0, [], training.loss_view(kind, model)
  for i in range(0, len(clips), 8):
    part = training.compute_loss(kind, view, clips[i:i + 8], m[i:i + 8], cfg)
    loss += float(part['masked_l1']) * len(clips[i:i + 8])
    out.append(inpaint(kind, model, cfg, clips[i:i + 8], m[i:i + 8], gl_iterations, phase))
  out = np.concatenate(out)
  scalars = {'loss_masked_l1': loss / len(clips),
             'ml1_waveform': float(metrics.masked_l1(out, clips, m > 0).mean()),
             'ml1_masked_input': float(metrics.masked_l1(clips * (1 - m), clips, m > 0).mean()),
             'spectral_snr_db': float(np.mean(metrics.spectral_snr(out, clips, m > 0, protocol.sample_rate)))}
  return scalars, (clips[0], out[0])


def write_examples(target, inpainted, protocol, n_fft: int = 512, hop: int = 128) -> None:
  """Audio of the target and the inpainted clip, and their dB spectrograms side by side."""
  both = np.stack([target, inpainted]).astype(np.float32)
  tf.summary.audio('target_inpainted', both[:, :, None], protocol.sample_rate, max_outputs=2)
  db = 20 * np.log10(np.abs(spectrogram.stft(both, n_fft, hop)) + 1e-5)  # [2, frames, bins]
  img = np.clip((db - db.max() + 80) / 80, 0, 1).transpose(0, 2, 1)[:, ::-1]  # low bins at the bottom
  tf.summary.image('spectrogram_target_inpainted', np.concatenate(list(img), axis=1)[None, :, :, None])


class LongGapTask(trainer_lib.Task):
  """A long-gap network as a task of the one training loop: batches that are a function of
  (seed, step) (`batch`), eq. 2 (+ eq. 3 with `features`) as the loss (training.compute_loss),
  validation on the fixed test mask (`validate`: its ML1 is the best model's score) with the
  first clip as audio and spectrograms."""

  def __init__(self, kind, cfg, protocol, train_clips, valid_clips, record: dict, steps: int,
               batch_size: int, lr: float, seed: int, valid_every: int, gl_iterations: int,
               features=None, perceptual_weight: float = 0.0, valid_phase: str = 'gl'):
    self.kind, self.cfg, self.protocol = kind, cfg, protocol
    self.train_clips, self.valid_clips, self._record = train_clips, valid_clips, record
    self.steps, self.batch_size, self.lr, self.seed = steps, batch_size, lr, seed
    self.validation_interval = valid_every
    self.gl_iterations, self.valid_phase = gl_iterations, valid_phase
    self.features, self.perceptual_weight = features, perceptual_weight

  def record(self) -> dict:
    return self._record

  def build(self, options):
    model = build(self.kind, self.cfg, self.protocol)
    self.view = training.loss_view(self.kind, model)
    return model

  def optimizer(self):
    return keras.optimizers.Adam(self.lr)

  def train_dataset(self, start_step: int):
    shape = (self.batch_size, self.protocol.clip_samples)
    return tf.data.Dataset.from_generator(
        lambda: (batch(self.train_clips, self.protocol, self.batch_size, self.seed, s)
                 for s in itertools.count(start_step)),
        output_signature=(tf.TensorSpec(shape, tf.float32), tf.TensorSpec(shape, tf.float32)))

  def loss(self, model, batch, global_batch_size, replicas):
    clips, mask = batch
    parts = training.compute_loss(self.kind, self.view, clips, mask, self.cfg, self.features,
                                  self.perceptual_weight, training=True)
    shares = {k: parts[k] / replicas for k in ('masked_l1', 'perceptual', 'total')}  # sum = the batch's
    return shares['total'], shares

  def validate(self, model, options):
    if not len(self.valid_clips):
      return None
    scalars, example = validate(self.kind, model, self.cfg, self.valid_clips, self.protocol,
                                self.gl_iterations, self.valid_phase)
    return trainer_lib.Validation(scalars, score=scalars['ml1_waveform'],
                                  write=lambda: write_examples(*example, self.protocol))

  def total_steps(self) -> int:
    return self.steps

  def save_model(self, model, path: str) -> None:
    with atomic.replacing(path) as tmp:
      model.save(tmp)


def train(data_dir, kind='spec', preset='small', steps=1000, batch_size=8, lr=1e-3,
          time_budget_s=0.0, runs_dir='runs', name=None, log_every=50, checkpoint_every=200,
          valid_every=500, valid_clips=64, seed=0, gl_iterations=32, features=None,
          perceptual_weight=0.0, magnitude=None, baseline='', valid_phase='gl',
          perceptual_classifier=None, strategy: str = 'default', progress: bool = True) -> dict:
  """Trains (or resumes) one run; returns {'step', 'run_dir', 'stopped'}.

  magnitude: 'log' or 'linear' overrides the spectrogram preset's domain (model_config).
  baseline: 'interp' starts the spectrogram network from a baseline (model_config.BASELINES; a
    deviation from the paper, off by default).
  valid_phase: the spectrogram model's phase option in validation (phase_options.PHASES).
  perceptual_classifier: a classifier NAME.keras (+ .json; make longgap-classifiers, or the shipped
    models/longgap-classifier-*-sc09.keras) whose features are eq. 3's Psi, instead of `features`.
  strategy: the tf.distribute strategy of the loop (trainer.STRATEGIES).

  features, perceptual_weight: eq. 3's Psi and its weight (losses.penultimate of a classifier,
  losses.on_spectrogram for a spectrogram classifier on the waveform model); none yet by flag.
  """
  trainer_lib.make_strategy(strategy)  # before TensorFlow runs anything (multi_worker)
  if perceptual_classifier:
    features = classifier_psi(perceptual_classifier, kind)
  settings = clip_dataset.read_settings(data_dir)
  protocol = config.get(settings['protocol'])
  cfg = model_config.get(kind, preset)
  if magnitude and kind == 'spec':
    cfg = dataclasses.replace(cfg, magnitude=magnitude)
  if baseline:
    if kind != 'spec':
      raise ValueError(f'--baseline={baseline}: the spectrogram network only (--model=spec)')
    cfg = dataclasses.replace(cfg, baseline=baseline)
  train_clips, _ = clip_dataset.read_split(data_dir, 'train')
  if not len(train_clips):
    raise DatasetError(f'{data_dir}: the train split is empty')
  valid = np.zeros((0, 1))
  if valid_clips:  # the clips whose test gap is not silent, as the tables score
    valid = clip_dataset.read_split(data_dir, 'valid')[0]
    valid = valid[protocol.loud_test_gap(valid)][:valid_clips]
  name = name or f'longgap-{preset}-{pathlib.Path(data_dir).name}-{kind}'
  run_dir = pathlib.Path(runs_dir) / name
  record = {'model': kind, 'preset': preset, 'config': dataclasses.asdict(cfg),
            'data_dir': str(data_dir), 'protocol': protocol.name, 'batch_size': batch_size,
            'lr': lr, 'seed': seed, 'perceptual_weight': perceptual_weight,
            **({'perceptual_classifier': str(perceptual_classifier)} if perceptual_classifier else {})}
  task = LongGapTask(kind, cfg, protocol, train_clips, valid, record, steps, batch_size, lr, seed,
                     valid_every, gl_iterations, features, perceptual_weight, valid_phase)
  options = trainer_lib.RunOptions(checkpoint_every=checkpoint_every, log_every=log_every,
                                   strategy=strategy, progress=progress, time_budget_s=time_budget_s)
  result = trainer_lib.Trainer(task, str(run_dir), options).fit()
  stopped = {'schedule': 'steps', 'time_budget': 'time budget'}.get(result['stopped_by'],
                                                                     result['stopped_by'])
  return {'step': result['step'], 'run_dir': str(run_dir), 'stopped': stopped}
