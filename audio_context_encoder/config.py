"""Every parameter of the paper, in one place, named as the paper names them.

Marafioti, Holighaus, Majdak, Perraudin, "Audio inpainting of music by means of
neural networks", AES 146, 2019. Section numbers below refer to that paper;
facts the paper leaves open come from the authors' code (docs/reference.md).

Two presets:
  * ``paper``: the exact setting of the paper.
  * ``small``: a documented reduction for CPU demos. Same signal layout, same
    loss, same optimiser; only the network widths, batch size and step counts
    shrink so a few hundred steps run in minutes on two cores.

Deviations from the paper are fields that default to the paper's choice.
"""

import dataclasses
from typing import Tuple

# Burg's method (§3.5) stops raising the order of a context whose prediction-error energy fell
# to this fraction of its initial value (a prediction gain of 100 dB: only pure synthetic
# signals get there; real audio stays far above, see tests/test_lpc.py). Shared by lpc.py,
# lpc_tf.py and reference.py.
BURG_EXACT = 1e-10

# Gap durations the paper evaluates (§3.1): 64 ms (trained) and 48 ms (Table 3).
GAP_LENGTHS = {64: 1024, 48: 768}
CONTEXT_LENGTHS = {64: 2048, 48: 2176}


@dataclasses.dataclass(frozen=True)
class SignalConfig:
  """Signal and STFT parameters (§2.1, §3.1)."""

  sample_rate: int = 16000  # §3.1: "The sampling rate was 16 kHz."
  L: int = 5120  # §3.1: segment length, 320 ms.
  Lg: int = 1024  # §3.1: gap length, 1024 (64 ms) or 768 (48 ms).
  Lc: int = 2048  # §3.1: context length per side, 2048 (128 ms) or 2176 (136 ms).
  M: int = 512  # §2.1: Hann window length = number of frequency channels (FFT size).
  a: int = 128  # §2.1: hop size.

  def __post_init__(self):
    if 2 * self.Lc + self.Lg != self.L:
      raise ValueError(f'2 * Lc + Lg must equal L, got 2*{self.Lc} + {self.Lg} != {self.L}')
    for name in ('L', 'Lg', 'Lc', 'M'):
      if getattr(self, name) % self.a:
        raise ValueError(f'{name} = {getattr(self, name)} is not a multiple of the hop a = {self.a}')

  # ---- Derived layout (see audio_context_encoder/context_encoder/features.py for the picture) ----
  @property
  def bins(self) -> int:
    """Frequency bins of a real STFT: M // 2 + 1 = 257."""
    return self.M // 2 + 1

  @property
  def pad(self) -> int:
    """Zeros added to each context towards the gap: M - a = 384 (authors' code)."""
    return self.M - self.a

  @property
  def context_frames(self) -> int:
    """STFT frames of one padded context side: 16 (64 ms) or 17 (48 ms)."""
    return (self.Lc + self.pad - self.M) // self.a + 1

  @property
  def clean_context_frames(self) -> int:
    """Frames of one context side that never touch the zero padding: 13 or 14."""
    return (self.Lc - self.M) // self.a + 1

  @property
  def gap_frames(self) -> int:
    """STFT frames covering the gap plus M - a on each side: 11 (64 ms) or 9 (48 ms)."""
    return (self.Lg + 2 * self.pad - self.M) // self.a + 1

  @property
  def gap_region(self) -> Tuple[int, int]:
    """Samples [start, end) of the segment whose STFT is the gap target."""
    return self.Lc - self.pad, self.Lc + self.Lg + self.pad

  @property
  def segment_frames(self) -> int:
    """Frames of the non-padded STFT of the whole segment: 37."""
    return (self.L - self.M) // self.a + 1

  @property
  def gap_first_frame(self) -> int:
    """Index of the first gap frame among the segment's frames: 13 (64 ms)."""
    return self.gap_region[0] // self.a

  @property
  def dgt_columns(self) -> int:
    """Columns of LTFAT's circular dgtreal of the segment: L / a = 40."""
    return self.L // self.a

  @property
  def dgt_offset(self) -> int:
    """tf.signal.stft frame k equals (in magnitude) LTFAT 'timeinv' column k + M/(2a)."""
    return self.M // (2 * self.a)

  @property
  def gap_dgt_columns(self) -> Tuple[int, int]:
    """DGT columns [start, end) replaced by the network: 15..25 for 64 ms."""
    start = self.gap_first_frame + self.dgt_offset
    return start, start + self.gap_frames


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """Network widths (§2.2-2.3, Figs. 1-2, the authors' parameter file).

  Kernels are (time, frequency); strides likewise. The 'small' preset divides
  the channel counts but keeps kernels, strides and the reshape geometry, so it
  is the same code path as the paper's network.
  """

  encoder_kernels: Tuple[Tuple[int, int], ...] = ((7, 89), (3, 17), (2, 11), (1, 9), (1, 5), (2, 5))
  encoder_strides: Tuple[Tuple[int, int], ...] = ((2, 2), (2, 3), (2, 3), (1, 2), (1, 1), (1, 1))
  encoder_channels: Tuple[int, ...] = (32, 128, 512, 256, 160, 128)
  encoding_size: int = 2048  # §2.2: "an encoding of size 2048"
  fcl_reshape: Tuple[int, int, int] = (8, 8, 32)
  decoder_kernels: Tuple[Tuple[int, int], ...] = ((8, 8), (5, 5), (3, 3), (5, 67), (11, 257))
  decoder_strides: Tuple[Tuple[int, int], ...] = ((2, 2), (2, 2), (1, 1), (2, 2), (1, 1))
  decoder_channels: Tuple[int, ...] = (128, 512, 257, 11, 1)
  # Row-major reshapes after deconv 3 and deconv 4 (the authors' code).
  decoder_reshapes: Tuple[Tuple[int, int, int], ...] = ((8, 257, 128), (11, 257, 32))
  output: str = 'magnitude'  # §2.3: 'magnitude' (1 channel) or 'complex' (Re, Im).
  batch_norm_epsilon: float = 1e-3
  # Moving-average momentum of batch norm (TF1 and Keras default, the authors' code). Inference
  # uses the moving statistics, which lag ~1/(1 - momentum) steps behind training: short runs
  # (the overfit test) use 0.9 so that inference-mode results are meaningful after ~100 steps.
  batch_norm_momentum: float = 0.99
  # Deviation, off by default ('none' = the paper): 'interp' adds the network's output to the
  # linear interpolation of the context's border-frame magnitudes (features.
  # interpolated_gap_magnitude) and starts the last kernel at zero, so training starts at that
  # baseline and learns corrections. README "Deviations" explains why (CPU-scale training).
  # 'blend' does the same on a learnt base: per frequency bin, a weighted sum of the magnitudes of
  # every context frame clear of the padding, its weights starting at the interpolation's
  # (model.BlendedGap). The bottleneck cannot carry per-bin detail; this path can.
  # 'lpc' starts at the LPC baseline (§3.5) instead: the model's second input is the magnitudes
  # of the LPC-extrapolated gap (network_inputs.lpc_gap_magnitude, from the context only), and
  # the base is a learnt per-bin weight on them plus a blend of the clean context frames starting
  # at zero (model.LPCBlendedGap), so before training the output equals LPC's gap magnitudes.
  residual: str = 'none'
  # Deviation, off by default (False = the paper's four Re/Im channels): the first convolution
  # also sees |S_b| and |S_a|, computed inside the model from the same input (model.
  # ContextMagnitudes). A ReLU network must otherwise learn the modulus of rotating complex
  # coefficients before it can use the context's energy, which CPU-scale training does not reach.
  context_magnitudes: bool = False


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Loss and optimisation (§2.5, §3.3)."""

  c: float = 5.0  # eq. (2): F = ||S - S'||^2 / (1/c + ||S||^2)
  lambda_: float = 0.01  # eq. (3): T = F + lambda/2 * sum w^2
  # 'paper' = eq. (2)+(3); 'authors_code' = 0.5*||S-S'||^2 (1 + 5/(||S||^2+1e-4)) + L2 on all variables.
  loss: str = 'paper'
  # How per-example losses combine over a batch. The authors SUM (docs/reference.md, "Loss
  # and training").
  batch_reduction: str = 'sum'
  learning_rate: float = 1e-3  # §3.3: ADAM, learning rate 1e-3
  learning_rate_final: float = 1e-4  # §3.3: dropped to 1e-4 at convergence
  batch_size: int = 256  # §3.3
  validation_interval: int = 2000  # §3.3: validation NMSE every 2000 steps
  steps_first_phase: int = 600_000  # §3.3: ~600k steps at 1e-3
  steps_second_phase: int = 200_000  # §3.3: another 200k steps at 1e-4
  # §3.3 "when converging": the rate also drops after this many validations without a new
  # best validation NMSE (0 = only at steps_first_phase, the paper's ~600k).
  lr_drop_patience: int = 0
  # The run's schedule (what a resume must keep): total steps (0 = steps_first_phase +
  # steps_second_phase), the step of the drop (0 = steps_first_phase), the initialisation and
  # shuffle seed.
  steps: int = 0
  lr_drop_step: int = 0
  seed: int = 0


@dataclasses.dataclass(frozen=True)
class DataConfig:
  """Dataset construction (§3.2)."""

  segment_hop: int = 512  # §3.2: a segment every 32 ms
  gap_rms_threshold: float = 1e-4  # §3.2: segments whose gap RMS < 1e-4 are dropped
  music_split: Tuple[float, float, float] = (0.7, 0.2, 0.1)  # Table 1, by track
  split_seed: int = 0
  # §3.2 "the silence was removed": the paper states no rule; the authors' code trims
  # leading and trailing frames of 1024 samples whose RMS is <= 1e-2 (docs/reference.md, "Data").
  silence_frame_length: int = 1024
  silence_rms_threshold: float = 1e-2
  # Samples stored on each side of a 5120-sample segment: 256 = 16 ms, the largest
  # extension of a 48 ms gap to the 64 ms network in Table 3 (§4.2).
  eval_margin: int = 256
  # NSynth notes are 4 s (§3.2); note sets of other lengths are cut or zero-padded to it.
  note_seconds: float = 4.0


@dataclasses.dataclass(frozen=True)
class ReconstructionConfig:
  """Phase retrieval (§2.4) and the LPC reference (§3.5)."""

  pghi_gamma_factor: float = 0.25645  # gamma = 0.25645 * M^2 for a Hann window (PGHI)
  fgla_iterations: int = 100  # §2.4: 100 iterations of fast Griffin-Lim
  fgla_alpha: float = 0.99  # fast Griffin-Lim acceleration
  lpc_order: int = 1000  # §3.5: Burg's method, order 1000
  # §2.4: PGHI then 100 FGLA iterations; 'true_phase', 'pghi', 'fgla' are ablations.
  phase_method: str = 'pghi+fgla'
  # §4.2, Table 3: a 48 ms gap is extended to the 64 ms network's gap by (before, after)
  # samples: 16 ms forward, 16 ms backward, 8 + 8 ms centred; the results are averaged.
  gap_extensions: Tuple[Tuple[int, int], ...] = ((0, 256), (256, 0), (128, 128))


@dataclasses.dataclass(frozen=True)
class JanssenConfig:
  """Janssen's AR inpainting (not in the paper: the field's strongest classical baseline for gaps
  up to ~80 ms; audio_context_encoder/dsp/janssen.py, docs/janssen.md). Defaults from Mokrý & Rajmic
  (EUSIPCO 2024, arXiv 2403.04433; their code, ondrejmokry/InpaintingAutoregressive), who work at
  44.1 kHz: durations are kept, at 16 kHz."""

  p: int = 512  # AR order; they test 256..3072 at 44.1 kHz (5.8-70 ms); 512 here is 32 ms
  # Their maxit is 20; 10 meet 20 ms per gap on one core (docs/janssen.md: what it costs).
  iterations: int = 10
  estimator: str = 'autocorrelation'  # their default ('lpc'); also 'burg' ('arburg'), 'covariance'
  context_ms: float = 128.0  # gap-wise: audio read on each side; the paper's Lc (they use 93 ms)
  window_ms: float = 92.875  # classic: block length, their w = 4096 samples at 44.1 kHz
  hop_ms: float = 23.25  # classic: block hop, their a = 1024 samples at 44.1 kHz


JANSSEN = JanssenConfig()


@dataclasses.dataclass(frozen=True)
class Config:
  """The whole experiment: one object, passed everywhere."""

  name: str = 'paper'
  signal: SignalConfig = SignalConfig()
  network: NetworkConfig = NetworkConfig()
  train: TrainConfig = TrainConfig()
  data: DataConfig = DataConfig()
  reconstruction: ReconstructionConfig = ReconstructionConfig()

  def replace(self, **sections) -> 'Config':
    """A copy with some sections replaced (dataclasses are frozen)."""
    return dataclasses.replace(self, **sections)

  def to_dict(self) -> dict:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict) -> 'Config':
    """Inverse of to_dict (tuples come back from JSON as lists)."""

    def build(klass, values):
      kwargs = {}
      for f in dataclasses.fields(klass):
        if f.name not in values:
          continue
        v = values[f.name]
        if dataclasses.is_dataclass(f.type if isinstance(f.type, type) else None):
          v = build(f.type, v)
        kwargs[f.name] = _tuplify(v)
      return klass(**kwargs)

    sections = {'signal': SignalConfig, 'network': NetworkConfig, 'train': TrainConfig,
                'data': DataConfig, 'reconstruction': ReconstructionConfig}
    kwargs = {k: build(v, d.get(k, {})) for k, v in sections.items()}
    return cls(name=d.get('name', 'paper'), **kwargs)


def _tuplify(v):
  if isinstance(v, list):
    return tuple(_tuplify(x) for x in v)
  return v


def signal_config(gap_ms: int = 64) -> SignalConfig:
  """The §3.1 signal layout for a 64 ms or 48 ms gap."""
  if gap_ms not in GAP_LENGTHS:
    raise ValueError(f'gap_ms must be one of {sorted(GAP_LENGTHS)}, got {gap_ms}')
  return SignalConfig(Lg=GAP_LENGTHS[gap_ms], Lc=CONTEXT_LENGTHS[gap_ms])


def paper(gap_ms: int = 64, output: str = 'magnitude') -> Config:
  """The paper's exact setting."""
  network = NetworkConfig()
  if output == 'complex':
    network = dataclasses.replace(network, output='complex', decoder_channels=(128, 512, 257, 11, 2))
  return Config(name='paper', signal=signal_config(gap_ms), network=network)


def small(gap_ms: int = 64, output: str = 'magnitude') -> Config:
  """CPU-demo reduction of `paper` (about 20x fewer FLOPs per example).

  Channel widths of the encoder and of deconv 1-2 are divided by 4 (deconv 2 by 16)
  and the encoding by 4 (512 = 8 x 8 x 8). The layers whose widths encode the output
  geometry (deconv 3: 257, deconv 4: 11, the reshapes) stay, so the output is still
  11 x 257; the two costliest kernels shrink in frequency (deconv 4: 5 x 67 -> 3 x 17,
  deconv 5: 11 x 257 -> 11 x 17), as they alone would cost ~9 GFLOP per example and
  training step. Batch 32 and short schedules instead of 256 and 800k.
  """
  base = paper(gap_ms, output)
  kernels = base.network.decoder_kernels
  network = dataclasses.replace(
      base.network,
      encoder_channels=(8, 32, 128, 64, 40, 32),
      encoding_size=512,
      fcl_reshape=(8, 8, 8),
      decoder_channels=(32, 32) + base.network.decoder_channels[2:],
      decoder_kernels=kernels[:3] + ((3, 17), (11, 17)),
  )
  train = dataclasses.replace(base.train, batch_size=32, validation_interval=200,
                              steps_first_phase=3000, steps_second_phase=1000)
  return base.replace(name='small', network=network, train=train)


PRESETS = {'paper': paper, 'small': small}


RESIDUALS = ('none', 'interp', 'blend', 'lpc')  # NetworkConfig.residual
OUTPUTS = ('magnitude', 'complex')  # NetworkConfig.output (§2.3)
LOSSES = ('paper', 'authors_code')  # TrainConfig.loss
REDUCTIONS = ('sum', 'mean')  # TrainConfig.batch_reduction
# How to run a training (training.RunOptions), not what it learns: the --strategy and
# --precision choices, here so that entry points offer them without importing TensorFlow.
STRATEGIES = ('default', 'mirrored', 'multi_worker')
PRECISIONS = ('float32', 'mixed_bfloat16', 'mixed_float16')


def get(preset: str = 'paper', gap_ms: int = 64, output: str = 'magnitude') -> Config:
  """Look up a preset by name (the --preset flag of every entry point)."""
  if preset not in PRESETS:
    raise ValueError(f'unknown preset {preset!r}; choose one of {sorted(PRESETS)}')
  if output not in OUTPUTS:
    raise ValueError(f"output must be 'magnitude' or 'complex', got {output!r}")
  return PRESETS[preset](gap_ms, output)
