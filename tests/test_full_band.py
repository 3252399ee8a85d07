"""The band above 8 kHz of a file above 16 kHz, filled at the file's rate (issue 21): energy in
the gap, bit-exactness outside the documented zones, nothing changed at 16 kHz and below."""

import numpy as np
import pytest
from scipy import signal as sps

from audio_context_encoder.methods import inpaint
from audio_context_encoder import methods


def bright(rate, seconds=2.0, channels=1, seed=0):
  """Tones below and above 8 kHz and a little noise: audio with a band the 16 kHz fill lacks."""
  t = np.arange(int(seconds * rate)) / rate
  rng = np.random.default_rng(seed)
  cols = [0.3 * np.sin(2 * np.pi * (440 + 110 * c) * t) + 0.1 * np.sin(2 * np.pi * (11000 + 500 * c) * t)
          + 0.01 * rng.standard_normal(len(t)) for c in range(channels)]
  return np.stack(cols, axis=1)


def high_energy(x, rate, first, end):
  sos = sps.butter(6, 8500, 'high', fs=rate, output='sos')
  return np.sum(sps.sosfiltfilt(sos, x, axis=0)[first:end] ** 2)


@pytest.mark.parametrize('name', ['lpc', 'network'])
def test_the_gap_gets_its_band_above_8_khz_back(name):
  rate = 44100
  x = bright(rate)
  gap = inpaint.Gap(1.0, 0.064)
  first, end = gap.samples(rate)
  damaged = x.copy()
  damaged[first:end] = 0
  ratio = {}
  for full in (False, True):
    y = inpaint.fill_gaps(damaged, rate, [gap], method=name, full_band=full)
    ratio[full] = 10 * np.log10(high_energy(y, rate, first, end) / high_energy(x, rate, first, end))
  assert abs(ratio[True]) < 3 and ratio[False] < -20, ratio


@pytest.mark.parametrize('rate', [22050, 44100, 48000])
@pytest.mark.parametrize('name', ['lpc', 'network', 'janssen-gapwise'])
def test_with_the_full_band_nothing_changes_outside_the_zone(rate, name):
  method = methods.get(name)
  x = bright(rate, channels=2)
  gaps = [inpaint.Gap(0.6, 0.064), inpaint.Gap(1.3, 0.032)]
  y = inpaint.fill_gaps(x, rate, gaps, method=method)
  reach = int(np.ceil((method.zone + method.edge_guard) * rate / 16000))
  keep = np.ones(len(x), bool)
  for g in gaps:
    first, end = g.samples(rate)
    keep[first - reach:end + reach] = False
  np.testing.assert_array_equal(y[keep], x[keep])


@pytest.mark.parametrize('rate', [8000, 16000])
def test_at_16_khz_and_below_there_is_no_band_to_fill(rate):
  x = bright(rate)[:, :1] * 0 + np.sin(2 * np.pi * 300 * np.arange(2 * rate) / rate)[:, None] * 0.3
  gap = [inpaint.Gap(1.0, 0.05)]
  np.testing.assert_array_equal(inpaint.fill_gaps(x, rate, gap, full_band=True),
                                inpaint.fill_gaps(x, rate, gap, full_band=False))
