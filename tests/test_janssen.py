"""Janssen's AR inpainting (issue 21): the signal step against an independent least squares, the
estimators, the objective's descent, and fills of signals whose answer is known."""

import numpy as np
import pytest
from scipy import signal as sps

from audio_context_encoder.cli import main as cli
from audio_context_encoder import config
from audio_context_encoder.dsp import janssen
from audio_context_encoder.dsp import lpc
from audio_context_encoder import methods

CFG = config.JANSSEN


def ar_process(a, n, seed):
  """n samples of the AR process with coefficients a (a_0 = 1), driven by white noise."""
  e = np.random.default_rng(seed).standard_normal(n + 500)
  return sps.lfilter([1.0], a, e)[500:]


# a stable AR(4): two resonances (poles at radius 0.97 and 0.9)
POLES = [0.97 * np.exp(1j * 0.3), 0.9 * np.exp(1j * 1.1)]
A4 = np.real(np.poly(POLES + [np.conj(p) for p in POLES]))


def snr(ref, est):
  return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - est) ** 2))


def test_the_gap_step_equals_a_dense_least_squares_of_the_convolution():
  """min ||a * x||^2 over the gap, solved by lstsq on the full convolution matrix (independent of
  the Toeplitz normal equations janssen.gap_step solves with Levinson)."""
  rng = np.random.default_rng(0)
  x = ar_process(A4, 1200, 1)
  first, end = 500, 740
  for p in (4, 40):
    a = np.concatenate([[1.0], 0.3 * rng.standard_normal(p) / np.arange(1, p + 1)])
    conv = np.zeros((len(x) + p, len(x)))
    for j in range(len(x)):
      conv[j:j + p + 1, j] = a
    missing = np.arange(first, end)
    known = np.setdiff1d(np.arange(len(x)), missing)
    dense = np.linalg.lstsq(conv[:, missing], -conv[:, known] @ x[known], rcond=None)[0]
    got = janssen.gap_step(x, first, end, a)
    assert np.max(np.abs(got - dense)) <= 1e-8 * np.max(np.abs(dense))


def test_the_estimators_recover_a_known_ar_model():
  """Each estimate whitens the process: its prediction error has the driving noise's unit
  variance (the coefficients of such resonant poles are themselves ill-conditioned)."""
  x = ar_process(A4, 20000, 2)
  for estimator in janssen.ESTIMATORS:
    a = janssen.ar_coefficients(x, 4, estimator)
    residual = sps.lfilter(a, [1.0], x)[10:]
    assert a[0] == 1.0 and abs(np.var(residual) - 1) < 0.03, (estimator, a, np.var(residual))


def test_the_covariance_method_is_the_least_squares_of_the_forward_error():
  x = ar_process(A4, 800, 3)
  p = 6
  rows = np.stack([x[p - k:len(x) - k] for k in range(1, p + 1)], axis=1)
  expected = np.linalg.lstsq(rows, -x[p:], rcond=None)[0]
  np.testing.assert_allclose(janssen.ar_coefficients(x, p, 'covariance')[1:], expected, rtol=1e-6,
                             atol=1e-9)


def test_on_an_ar_process_the_objective_falls_and_the_fill_beats_extrapolation():
  """Janssen is block coordinate descent on Q: with the autocorrelation estimator (which
  minimises Q over a) Q never rises. On AR(4) data its fill beats silence and the two-sided
  extrapolation of the paper's LPC with the same order: pooled over 64 realisations of a short
  gap, where interpolating from both sides matters (long gaps fall back to the prior for all)."""
  cfg = config.JanssenConfig(p=4, iterations=8)
  first, end = 1000, 1020
  err = {'janssen': 0.0, 'extrapolation': 0.0, 'zeros': 0.0}
  for seed in range(64):
    x = ar_process(A4, 2020, 10 + seed)
    y, values = janssen.janssen(x, first, end, cfg, trace=True)
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:])), values
    ext, _ = lpc.extrapolate_gap(x[None, :first], x[None, end:], end - first, order=4)
    err['janssen'] += np.sum((x[first:end] - y[first:end]) ** 2)
    err['extrapolation'] += np.sum((x[first:end] - ext[0]) ** 2)
    err['zeros'] += np.sum(x[first:end] ** 2)
  assert err['janssen'] < 0.97 * err['extrapolation'] and err['extrapolation'] < err['zeros'], err


@pytest.mark.parametrize('variant, n', [('gapwise', 1024), ('classic', 512)])
def test_a_sum_of_sinusoids_is_filled_nearly_exactly(variant, n):
  """Gap-wise up to 64 ms; the classic method up to 32 ms. With its 93 ms blocks a 64 ms gap
  leaves each block little (and Hann-tapered) audio to fit: measured 11.8 dB there
  (docs/janssen.md), the weakness Mokrý & Rajmic's gap-wise variant removes."""
  t = np.arange(5120) / 16000
  x = sum(a * np.sin(2 * np.pi * f * t + ph) for a, f, ph in
          ((0.4, 440.0, 0.3), (0.2, 1234.5, 1.0), (0.1, 3000.0, 2.0)))
  gap = janssen.VARIANTS[variant](x, 2048, 2048 + n, CFG)
  assert snr(x[2048:2048 + n], gap) > 40


def test_the_methods_fill_only_the_gap_and_are_registered():
  assert {'janssen', 'janssen-gapwise'} <= set(methods.names())
  sig = config.signal_config(48)
  t = np.arange(2 * sig.L) / 16000
  seg = np.stack([0.3 * np.sin(2 * np.pi * f * t[:sig.L]) for f in (300.0, 700.0)])
  for name in ('janssen', 'janssen-gapwise'):
    m = methods.get(name)
    out = m.restore(seg, sig).restored
    keep = np.ones(sig.L, bool)
    keep[sig.Lc:sig.Lc + sig.Lg] = False
    np.testing.assert_array_equal(out[:, keep], seg[:, keep])
    assert snr(seg[:, ~keep], out[:, ~keep]) > 30
    assert m.settings()['janssen']['p'] == CFG.p


def test_inpaint_takes_janssen_and_refuses_a_long_gap(tmp_path, capsys):
  import soundfile as sf
  t = np.arange(32000) / 16000
  x = 0.3 * np.sin(2 * np.pi * 440 * t)
  x[16000:17024] = 0
  sf.write(tmp_path / 'in.wav', x, 16000, subtype='PCM_16')
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o.wav'), '--method',
                   'janssen-gapwise', '--gap', '1.0:64']) == 0
  y = sf.read(tmp_path / 'o.wav')[0]
  assert snr(0.3 * np.sin(2 * np.pi * 440 * t[16000:17024]), y[16000:17024]) > 30
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o2.wav'), '--method',
                   'janssen', '--gap', '0.5:100']) == 2
  err = capsys.readouterr().err
  assert 'longer than 64 ms' in err and 'longgap-lpc' in err
