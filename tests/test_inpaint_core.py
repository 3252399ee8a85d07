"""Gap parsing, dropout detection and the splice logic of inpaint.py (fillers stubbed)."""

import numpy as np
import pytest

from audio_context_encoder.audio import audio_file
from audio_context_encoder import config
from audio_context_encoder.methods import inpaint
from audio_context_encoder import methods
from audio_context_encoder.common.errors import UserError


def identity_filler(zone):
  def fill(x16, first, end):
    return x16[first - zone:end + zone].copy()
  return fill


def constant_filler(zone, value=0.25):
  def fill(x16, first, end):
    return np.full(end - first + 2 * zone, value)
  return fill


def tone(rate, seconds, channels, rng):
  t = np.arange(int(rate * seconds)) / rate
  cols = [0.3 * np.sin(2 * np.pi * (220 + 110 * c) * t + rng.uniform(0, 6)) for c in range(channels)]
  return np.stack(cols, axis=1)


def test_parse_gap():
  assert inpaint.parse_gap('1.5:64') == inpaint.Gap(1.5, 0.064)
  assert inpaint.Gap(1.5, 0.064).samples(16000) == (24000, 25024)
  for bad in ['1.5', 'a:64', '1.5:-3', '1.5:0']:
    with pytest.raises(UserError, match='gap'):
      inpaint.parse_gap(bad)


def test_detect_dropouts(rng):
  rate = 16000
  x = tone(rate, 1.0, 2, rng)
  x[:800] = 0  # leading silence: not a dropout
  x[4000:4480] = 0  # 30 ms dropout in both channels
  x[9000:9000 + 1200] = 0  # 75 ms: too long
  x[12000:12100, 0] = 0  # one channel only: not digital silence of the file
  x[13000:13005] = 0  # 0.3 ms: below the minimum
  fill, too_long = inpaint.detect_dropouts(x, rate, max_ms=64)
  assert [g.samples(rate) for g in fill] == [(4000, 4480)]
  assert [g.samples(rate) for g in too_long] == [(9000, 10200)]


@pytest.mark.parametrize('rate', [16000, 44100, 48000])
@pytest.mark.parametrize('zone', [0, 384])
def test_only_gap_and_zone_change(rate, zone, rng):
  x = tone(rate, 1.0, 2, rng)
  gaps = [inpaint.Gap(0.3, 0.064), inpaint.Gap(0.6, 0.02)]
  # The 16 kHz splice alone (the band above 8 kHz has its own tests: test_full_band.py).
  y = inpaint.inpaint_samples(x, rate, gaps, constant_filler(zone), zone, 2048, 64, full_band=False)
  changed = np.zeros(len(x), bool)
  for g in gaps:
    first, end = g.samples(16000)
    lo, hi = int(np.floor((first - zone) * rate / 16000)), int(np.ceil((end + zone) * rate / 16000))
    changed[lo:hi] = True
    a, b = g.samples(rate)
    # The gap holds the filler's output (away from the resampling ringing at its edges).
    assert np.abs(y[a + 50:b - 50] - 0.25).max() < 0.02
  np.testing.assert_array_equal(y[~changed], x[~changed])


@pytest.mark.parametrize('rate', [16000, 44100])
def test_identity_filler_preserves_the_signal(rate, rng):
  """A filler that returns what it sees gives back the signal: the splice is aligned. It sees
  the gap zeroed (inpaint never shows a filler a gap's samples), so the gap comes back zero;
  the resampling filter rings within a few samples of the gap's edges."""
  x = tone(rate, 1.0, 1, rng)
  gap = inpaint.Gap(0.4, 0.064)
  y = inpaint.inpaint_samples(x, rate, [gap], identity_filler(384), 384, 2048, 64, full_band=False)
  first, end = gap.samples(rate)
  expected = x.copy()
  expected[first:end] = 0
  away = np.ones(len(x), bool)
  away[first - 30:first + 30] = away[end - 30:end + 30] = False
  assert np.abs(y - expected)[away].max() < 1e-3
  if rate == 16000:
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize('gaps, message', [
    ([inpaint.Gap(0.05, 0.064)], 'needs 128 ms of audio on both sides'),
    ([inpaint.Gap(0.9, 0.064)], 'needs 128 ms'),
    ([inpaint.Gap(1.2, 0.064)], 'beyond the end'),
    ([inpaint.Gap(0.3, 0.064), inpaint.Gap(0.33, 0.064)], 'overlap'),
    ([inpaint.Gap(0.3, 0.080)], 'longer than 64 ms'),
])
def test_bad_gaps(gaps, message, rng):
  with pytest.raises(UserError, match=message):
    inpaint.inpaint_samples(tone(16000, 1.0, 1, rng), 16000, gaps, constant_filler(0), 0, 2048, 64)


@pytest.mark.parametrize('first, end, expected_gap_start', [
    (20000, 20768, 20000 - 128),  # 48 ms, centred extension
    (2100, 2100 + 768, 2048),  # too close to the start: shifted forward
    (30000, 31024, 30000),  # exactly 64 ms
])
def test_network_window(first, end, expected_gap_start):
  sig = config.signal_config(64)
  start = methods.network_window(first, end, 40000, sig)
  assert start + sig.Lc == expected_gap_start
  assert start + sig.Lc <= first and end <= start + sig.Lc + sig.Lg


def test_write_is_atomic_and_keeps_format(tmp_path, rng):
  path = tmp_path / 'in.flac'
  x = tone(44100, 0.5, 2, rng)
  audio_file.write(str(path), audio_file.Audio(x, 44100, 'FLAC', 'PCM_24'))
  back = audio_file.read(str(path))
  assert (back.sample_rate, back.format, back.subtype) == (44100, 'FLAC', 'PCM_24')
  assert back.samples.shape == x.shape
  assert [p.name for p in tmp_path.iterdir()] == ['in.flac']


def test_unreadable_file(tmp_path):
  bad = tmp_path / 'bad.wav'
  bad.write_bytes(b'RIFF not really a wav file')
  with pytest.raises(UserError, match='cannot be read as audio'):
    audio_file.read(str(bad))
  with pytest.raises(UserError, match='no such file'):
    audio_file.read(str(tmp_path / 'missing.wav'))
