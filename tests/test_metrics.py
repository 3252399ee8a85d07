"""SNR metrics (paper §3.4) against hand-computed values and the gap position."""

import numpy as np
import pytest

from audio_context_encoder import config
from audio_context_encoder.dsp import metrics

SIG64 = config.signal_config(64)
SIG48 = config.signal_config(48)


def test_snr_hand_computed():
  x = np.array([[1.0, 1.0, 1.0, 1.0], [3.0, 4.0, 0.0, 0.0]])
  y = np.array([[1.0, 1.0, 1.0, 0.0], [3.0, 4.0, 0.0, 0.5]])
  # ||x||^2 = 4, error 1 -> 10 log10 4; ||x||^2 = 25, error 0.25 -> 10 log10 100 = 20
  np.testing.assert_allclose(metrics.snr(x, y), [10 * np.log10(4), 20.0])
  assert metrics.snr(x, x)[0] == np.inf


def test_snr_ms_columns_match_reference():
  assert metrics.snr_ms_columns(SIG64).tolist() == [18, 19, 20, 21, 22]
  assert metrics.snr_ms_columns(SIG48).tolist() == [19, 20, 21]


@pytest.mark.parametrize('sig', [SIG64, SIG48])
def test_snr_ms_columns_see_only_the_gap(sig, rng):
  x = rng.standard_normal((2, sig.L))
  y = x.copy()
  y[:, :sig.Lc] += rng.standard_normal((2, sig.Lc))  # damage everything outside the gap
  y[:, sig.Lc + sig.Lg:] = 0
  assert np.all(metrics.snr_ms(x, y, sig) > 250)
  assert np.all(metrics.snr_td(x, y, sig) == np.inf)
  z = x.copy()
  z[:, sig.Lc] += 1.0  # the first gap sample: column 18's window is zero there for 64 ms
  z[:, sig.Lc + 1] += 1.0  # ...but not here
  assert np.all(np.isfinite(metrics.snr_ms(x, z, sig)))


def test_snr_td_hand_computed(rng):
  x = rng.standard_normal((3, SIG64.L))
  y = x.copy()
  gap = slice(SIG64.Lc, SIG64.Lc + SIG64.Lg)
  y[:, gap] *= 0.9  # error = 0.1 x in the gap -> 20 dB
  y[:, :100] = 0  # outside the gap: ignored
  np.testing.assert_allclose(metrics.snr_td(x, y, SIG64), 20.0)


def test_snr_ms_scaling_hand_computed(rng):
  x = rng.standard_normal((2, SIG48.L))
  # Magnitudes scale with the signal: |0.5 X| -> error 0.5 |X| -> 10 log10 4.
  np.testing.assert_allclose(metrics.snr_ms(x, 0.5 * x, SIG48), 10 * np.log10(4))
  # A sign flip keeps the magnitudes: SNR_MS infinite, SNR_TD = 10 log10(1/4).
  assert np.all(metrics.snr_ms(x, -x, SIG48) > 250)
  np.testing.assert_allclose(metrics.snr_td(x, -x, SIG48), 10 * np.log10(0.25))


def test_snr_magnitudes_and_summary():
  true = np.ones((2, 11, 257))
  pred = np.stack([np.full((11, 257), 0.9), np.ones((11, 257))])
  v = metrics.snr_magnitudes(true, pred)
  np.testing.assert_allclose(v[0], 20.0)
  s = metrics.summary(v)
  assert s == {'mean': 20.0, 'std': 0.0, 'n': 1, 'n_nonfinite': 1}
