"""The numpy DGT (audio_context_encoder.dsp.dgt) against ltfatpy and the TF features."""

import numpy as np
import pytest
from ltfatpy import dgtreal, firwin, gabdual, idgtreal

from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.context_encoder import features


def _ltfat(sig):
  g, _ = firwin('hann', sig.M, norm='peak')
  return g, gabdual(g, sig.a, sig.M, sig.L)


def test_dgt_equals_ltfatpy_dgtreal_timeinv(gspi_segments):
  sig = config.signal_config(64)
  g, _ = _ltfat(sig)
  x = gspi_segments.astype(np.float64)
  c = dgt.dgt(x, sig)
  assert c.shape == (8, 40, 257)
  for i in range(3):
    ref = dgtreal(x[i], g, sig.a, sig.M, sig.L, 'timeinv')[0]
    np.testing.assert_allclose(c[i], ref.T, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_idgt_equals_ltfatpy_dual_synthesis(rng):
  """Inconsistent (random) coefficients: checks the dual window, not only the round trip."""
  sig = config.signal_config(64)
  _, gd = _ltfat(sig)
  c = rng.standard_normal((2, 40, 257)) + 1j * rng.standard_normal((2, 40, 257))
  c[..., 0] = c[..., 0].real  # DC and Nyquist of a real signal's DGT are real
  c[..., -1] = c[..., -1].real
  y = dgt.idgt(c, sig)
  for i in range(2):
    ref = np.ravel(idgtreal(c[i].T, gd, sig.a, sig.M, sig.L, 'timeinv')[0])
    np.testing.assert_allclose(y[i], ref, rtol=0, atol=1e-12)


def test_round_trip(gspi_segments):
  sig = config.signal_config(64)
  x = gspi_segments.astype(np.float64)
  np.testing.assert_allclose(dgt.idgt(dgt.dgt(x, sig), sig), x, atol=1e-12)


@pytest.mark.parametrize('gap_ms', [64, 48])
def test_gap_columns_equal_tf_gap_magnitude(gap_ms, gspi_segments):
  """docs/reference.md, "Signal and STFT": tf.signal.stft frame k = DGT column k + 2; target
  frames = columns 15..25 (64 ms)."""
  sig = config.signal_config(gap_ms)
  start, end = sig.gap_dgt_columns
  if gap_ms == 64:
    assert (start, end) == (15, 26)
  ours = dgt.magnitude(gspi_segments.astype(np.float64), sig)[:, start:end]
  tf_mag = features.gap_magnitude(gspi_segments, sig).numpy()
  np.testing.assert_allclose(ours, tf_mag, rtol=0, atol=1e-5 * tf_mag.max())


def test_column_subsets(gspi_segments):
  sig = config.signal_config(64)
  x = gspi_segments[:2].astype(np.float64)
  c = dgt.dgt(x, sig)
  cols = np.arange(15, 26)
  np.testing.assert_array_equal(dgt.dgt(x, sig, cols), c[:, cols])
  near = dgt.neighbours(sig, cols)
  assert near.tolist() == list(range(12, 29))
  region = dgt.support(sig, cols)
  assert np.flatnonzero(region)[[0, -1]].tolist() == [1664, 3455]  # = the gap region
  partial = dgt.idgt(c[:, near], sig, near)
  np.testing.assert_allclose(partial[:, region], x[:, region], atol=1e-12)


def test_wrong_length_is_a_clear_error():
  sig = config.signal_config(64)
  with pytest.raises(ValueError, match='5120 samples'):
    dgt.dgt(np.zeros((1, 5000)), sig)
