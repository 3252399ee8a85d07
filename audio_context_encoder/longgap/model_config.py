"""The two inpainting networks of Chang et al. 2019 ("Proposed Method", Fig. 2), as data.

The paper gives the structure, not the sizes: "stacked" gated (eq. 1), dilated convolutions on
the waveform (Fig. 2 a2), and the gated-convolution image inpainter of Yu et al. 2018a on the
spectrogram (Fig. 2 b2) with time and frequency "treated differently". It states no channel
widths, kernel sizes, dilations, strides, STFT, learning rate or batch size for either model.
So `paper` is the closest reading, every number marked INFERRED with its reason, and `small`
is the same code narrowed for CPU minutes (docs/longgap_models.md; the protocol: docs/longgap.md).
Table 3 (ablation) is the one place receptive fields appear: 21 ... 125 steps of a time axis
where 0.1 s = 40 steps; receptive_field.py gives each config's own.
"""

import dataclasses
from typing import Tuple

from audio_context_encoder.longgap import config

MAGNITUDES = ('log', 'linear')
# Where the spectrogram network starts (a deviation, off by default: docs/longgap_models.md,
# "Starting from a baseline"): '' the paper's network, which fills the zeroed gap; 'interp' a
# correction, in the log domain, to the gap's magnitudes interpolated across it (the baseline
# picked by measurement: longgap-interp, results/longgap_default.md), zero at step 0.
BASELINES = ('', 'interp')


@dataclasses.dataclass(frozen=True)
class WaveModelConfig:
  """Fig. 2 (a2): `len(dilations)` gated 1-D convolutions, then a linear 1x1 to one channel."""

  channels: int = 64
  kernel_size: int = 3
  # INFERRED: two WaveNet-style cycles of doubling dilations; 1 ... 4096 so the receptive field
  # (32765 samples) spans twice ESC-50's 0.4 s training gap at 22.05 kHz plus one (17641): every
  # gap sample then sees context on both sides (Table 3: it fails when the field is too small).
  dilations: Tuple[int, ...] = tuple(2 ** i for i in range(13)) * 2
  negative_slope: float = 0.2  # eq. 1's LeakyReLU; slope INFERRED (not in the paper)

  def __post_init__(self):
    if self.channels < 1 or self.kernel_size < 1 or not self.dilations or min(self.dilations) < 1:
      raise ValueError(f'invalid waveform model config: {self}')


@dataclasses.dataclass(frozen=True)
class SpectrogramModelConfig:
  """Fig. 2 (b2): Yu et al. 2018a's coarse network with gated convolutions on [time, frequency].

  Encoder: a first_kernel gated conv at channels[0]; per downsampling stage i, a strided gated
  conv and a plain one at channels[i + 1]; the bottleneck: one conv, the dilated convs, two
  convs; the decoder mirrors the stages with nearest upsampling; a linear conv to one channel.
  Axes are (time, frequency) everywhere.
  """

  magnitude: str = 'log'  # the network sees log(|S| + log_floor) or |S|; it outputs the same
  log_floor: float = 1e-5
  channels: Tuple[int, ...] = (48, 96, 192)  # Yu et al. 2018a's cnum = 48, doubling per stage
  first_kernel: Tuple[int, int] = (5, 5)
  kernel: Tuple[int, int] = (3, 3)
  # INFERRED: the image net's two stride-2 stages in both axes ...
  strides: Tuple[Tuple[int, int], ...] = ((2, 2), (2, 2))
  # ... and its dilations 2, 4, 8, 16, here along time only: the gap is a band of whole frames,
  # context lies before and after it in time, while every frequency of a frame is missing.
  dilations: Tuple[Tuple[int, int], ...] = ((2, 1), (4, 1), (8, 1), (16, 1))
  negative_slope: float = 0.2
  # INFERRED: the package's STFT (Hann 512, hop 128), as the spectrogram baselines (config.METHOD_STFT).
  n_fft: int = config.METHOD_STFT.n_fft
  hop: int = config.METHOD_STFT.hop
  baseline: str = ''  # BASELINES; not in the paper (its network starts from the zeroed gap)

  def __post_init__(self):
    if self.magnitude not in MAGNITUDES:
      raise ValueError(f'unknown magnitude {self.magnitude!r}; choose one of {MAGNITUDES}')
    if self.baseline not in BASELINES:
      raise ValueError(f'unknown baseline {self.baseline!r}; choose one of {BASELINES} '
                       "('' = the paper's network)")
    if self.baseline and self.magnitude != 'log':
      raise ValueError('a baseline-start network corrects log magnitudes: magnitude must be log')
    if len(self.channels) != len(self.strides) + 1:
      raise ValueError(f'channels needs one width per resolution ({len(self.strides) + 1}), got {self.channels}')

  @property
  def downsampling(self) -> Tuple[int, int]:
    """(time, frequency) factor of the bottleneck; the input is padded to multiples of it."""
    t = f = 1
    for st, sf in self.strides:
      t, f = t * st, f * sf
    return t, f


WAVE_PRESETS = {
    'paper': WaveModelConfig(),
    # one cycle 1 ... 2048: 8191 samples, over twice SC09's 0.2 s gap (6401), not ESC-50's
    'small': WaveModelConfig(channels=16, kernel_size=3, dilations=tuple(2 ** i for i in range(12))),
}
SPECTROGRAM_PRESETS = {
    'paper': SpectrogramModelConfig(),
    'small': SpectrogramModelConfig(channels=(8, 16, 24), first_kernel=(3, 3),
                                    strides=((1, 2), (2, 2)),
                                    dilations=((2, 1), (4, 1), (8, 1), (16, 1))),
}
PRESETS = {'wave': WAVE_PRESETS, 'spec': SPECTROGRAM_PRESETS}


def get(model: str, preset: str):
  """The config of model 'wave' or 'spec' under preset 'paper' or 'small' (one-line errors)."""
  if model not in PRESETS:
    raise ValueError(f'unknown long-gap model {model!r}; choose one of {sorted(PRESETS)}')
  try:
    return PRESETS[model][preset]
  except KeyError:
    raise ValueError(f'unknown preset {preset!r}; choose one of {sorted(PRESETS[model])}') from None
