"""Phase retrieval (paper §2.4): masked PGHI and masked fast Griffin-Lim, checked against ltfatpy."""

import numpy as np
import pytest
from ltfatpy import dgtreal, firwin, gabdual, idgtreal
from scipy import signal as sps

from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.dsp import metrics
from audio_context_encoder.dsp import phase
from audio_context_encoder.dsp import reference

SIG = config.signal_config(64)


def _tones_and_chirp():
  t = np.arange(SIG.L) / SIG.sample_rate
  tones = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t + 1)
           + 0.2 * np.sin(2 * np.pi * 3100 * t + 2))
  chirp = 0.5 * sps.chirp(t, 300, t[-1], 3000)
  return np.stack([tones, chirp])


def _true_gap_magnitudes(x):
  start, end = SIG.gap_dgt_columns
  return np.abs(dgt.dgt(x, SIG))[:, start:end]


def test_gap_columns_and_gamma():
  known = phase.known_columns_mask(SIG)
  assert np.flatnonzero(~known).tolist() == list(range(15, 26))
  assert config.ReconstructionConfig().pghi_gamma_factor * SIG.M ** 2 == pytest.approx(0.25645 * 512 ** 2)


def test_pghi_true_magnitudes_tones_and_chirp():
  x = _tones_and_chirp()
  y = phase.reconstruct_from_magnitudes(x, _true_gap_magnitudes(x), SIG, method='pghi')
  assert np.all(metrics.snr_ms(x, y, SIG) > 25)


def test_pghi_plus_fgla_not_worse_than_pghi_on_music(gspi_segments):
  x = gspi_segments.astype(np.float64)
  mags = _true_gap_magnitudes(x)
  snr_pghi = metrics.snr_ms(x, phase.reconstruct_from_magnitudes(x, mags, SIG, 'pghi'), SIG)
  snr_both = metrics.snr_ms(x, phase.reconstruct_from_magnitudes(x, mags, SIG, 'pghi+fgla'), SIG)
  snr_true = metrics.snr_ms(x, phase.reconstruct_from_magnitudes(x, mags, SIG, 'true_phase'), SIG)
  assert np.all(snr_true > 100)  # true magnitudes + true phase: exact up to rounding
  assert snr_both.mean() >= snr_pghi.mean()
  assert snr_pghi.mean() > 10


def _ltfat_fgla(x, iterations, alpha):
  """Unmasked fast Griffin-Lim from ltfatpy's dgtreal/idgtreal (Perraudin et al. 2013)."""
  g, _ = firwin('hann', SIG.M, norm='peak')
  gd = gabdual(g, SIG.a, SIG.M, SIG.L)
  s = np.abs(dgtreal(x, g, SIG.a, SIG.M, SIG.L, 'timeinv')[0])
  c = s.astype(complex)  # zero initial phase
  t_old = c
  for _ in range(iterations):
    f = idgtreal(c, gd, SIG.a, SIG.M, SIG.L, 'timeinv')[0]
    t_new = s * np.exp(1j * np.angle(dgtreal(f, g, SIG.a, SIG.M, SIG.L, 'timeinv')[0]))
    c = t_new + alpha * (t_new - t_old)
    t_old = t_new
  return np.ravel(idgtreal(c, gd, SIG.a, SIG.M, SIG.L, 'timeinv')[0])


def test_fgla_empty_mask_equals_ltfatpy_fast_griffin_lim(gspi_segments):
  x = gspi_segments[0].astype(np.float64)
  expected = _ltfat_fgla(x, iterations=40, alpha=0.99)
  c0 = np.abs(dgt.dgt(x[None], SIG)).astype(complex)
  c = phase.fgla(c0, np.zeros(SIG.dgt_columns, bool), SIG, iterations=40, alpha=0.99)
  ours = dgt.idgt(c, SIG)[0]
  assert np.max(np.abs(ours - expected)) < 1e-6
  assert np.max(np.abs(ours - x)) > 1e-3  # a real phase-retrieval run, not the identity


def test_fgla_keeps_known_columns_and_modulus(kernels, gspi_segments):
  x = gspi_segments[:2].astype(np.float64)
  c = dgt.dgt(x, SIG)
  known = phase.known_columns_mask(SIG)
  start, end = SIG.gap_dgt_columns
  c_in = c.copy()
  c_in[:, start:end] = np.abs(c[:, start:end])
  out = phase.fgla(c_in, known, SIG, iterations=5, alpha=0.99)
  np.testing.assert_array_equal(out[:, known], c[:, known])
  out1 = phase.fgla(c_in, known, SIG, iterations=1, alpha=0.0)  # alpha 0: one plain GLA step
  np.testing.assert_allclose(np.abs(out1[:, start:end]), np.abs(c[:, start:end]), rtol=1e-9, atol=1e-12)


def test_pghi_keeps_known_columns(gspi_segments):
  x = gspi_segments[:2].astype(np.float64)
  c = dgt.dgt(x, SIG)
  known = phase.known_columns_mask(SIG)
  out = phase.pghi(c, known, SIG)
  np.testing.assert_array_equal(out[:, known], c[:, known])
  np.testing.assert_allclose(np.abs(out), np.abs(c), rtol=1e-12)


@pytest.mark.parametrize('method', ['pghi', 'fgla', 'pghi+fgla', 'true_phase'])
def test_outside_gap_region_bit_exact(method, gspi_segments):
  x = gspi_segments[:3]
  mags = _true_gap_magnitudes(x.astype(np.float64)) * 0.7
  y = phase.reconstruct_from_magnitudes(x, mags, SIG, method=method, rcfg=config.ReconstructionConfig(
      fgla_iterations=3))
  lo, hi = SIG.gap_region
  assert y.dtype == x.dtype
  np.testing.assert_array_equal(y[:, :lo], x[:, :lo])
  np.testing.assert_array_equal(y[:, hi:], x[:, hi:])
  assert not np.array_equal(y[:, lo:hi], x[:, lo:hi])


def test_gap_samples_are_not_read(gspi_segments, rng):
  x = gspi_segments[:2].astype(np.float64)
  mags = _true_gap_magnitudes(x)
  damaged = x.copy()
  damaged[:, SIG.Lc:SIG.Lc + SIG.Lg] = rng.standard_normal((2, SIG.Lg))
  a = phase.reconstruct_from_magnitudes(x, mags, SIG, 'pghi')
  b = phase.reconstruct_from_magnitudes(damaged, mags, SIG, 'pghi')
  lo, hi = SIG.gap_region
  np.testing.assert_array_equal(a[:, lo:hi], b[:, lo:hi])


def test_unknown_method():
  with pytest.raises(ValueError, match='phase method'):
    phase.reconstruct_from_magnitudes(np.zeros((1, SIG.L)), np.zeros((1, 11, 257)), SIG, 'magic')


def _hard_batch(gspi_segments, rng):
  """Music, a silent segment and one with silence around the gap (PGHI restarts), noisy magnitudes."""
  x = gspi_segments[:5].astype(np.float64)
  x[0] = 0.0
  x[1, 1000:4000] = 0.0
  c = dgt.dgt(x, SIG)
  start, end = SIG.gap_dgt_columns
  c[:, start:end] = np.abs(c[:, start:end]) * (1 + 0.1 * rng.standard_normal((5, end - start, SIG.bins)))
  return c


def test_pghi_equals_reference_implementation(kernels, gspi_segments, rng):
  """The numba binary heap and the two-level lockstep heap pop in the same order as one global
  argmax per step, with the same float operations."""
  c = _hard_batch(gspi_segments, rng)
  known = phase.known_columns_mask(SIG)
  np.testing.assert_array_equal(phase.pghi(c, known, SIG), reference.pghi(c, known, SIG))
  plain = np.abs(c[2:4]).astype(complex)  # no known column: starts and restarts from the maximum
  none = np.zeros(SIG.dgt_columns, bool)
  np.testing.assert_array_equal(phase.pghi(plain, none, SIG), reference.pghi(plain, none, SIG))


@pytest.mark.parametrize('backend', ['numpy', 'tf'])
def test_fgla_equals_reference_implementation(backend, kernels, gspi_segments, rng):
  """Background + unknown-column loop = full idgt/dgt of the near columns, to 1e-10 relative."""
  known = phase.known_columns_mask(SIG)
  c = phase.pghi(_hard_batch(gspi_segments, rng), known, SIG)
  new = phase.fgla(c, known, SIG, iterations=30, alpha=0.99, backend=backend)
  old = reference.fgla(c, known, SIG, iterations=30, alpha=0.99)
  start, end = SIG.gap_dgt_columns
  scale = np.abs(old[:, start:end]).max(axis=(1, 2), keepdims=True) + 1e-300
  assert np.max(np.abs(new[:, start:end] - old[:, start:end]) / scale) < 1e-10
  np.testing.assert_array_equal(new[:, known], c[:, known])


def test_hop_layout_equals_dgt_and_idgt(rng):
  x = rng.standard_normal((2, SIG.L))
  c = rng.standard_normal((2, 40, SIG.bins)) + 1j * rng.standard_normal((2, 40, SIG.bins))
  for cols in (np.arange(15, 26), np.arange(40), np.array([0, 1, 39])):
    layout = dgt.HopLayout(SIG, cols)
    frames = layout.frames(layout.samples(x)) * layout.window_fft
    np.testing.assert_allclose(np.fft.rfft(frames), dgt.dgt(x, SIG, cols), atol=1e-10)
    buffer = np.zeros((2, len(layout.chunks), SIG.a))
    layout.overlap_add(buffer, np.fft.irfft(c[:, cols], n=SIG.M) * layout.dual_fft)
    np.testing.assert_allclose(buffer, layout.samples(dgt.idgt(c[:, cols], SIG, cols)), atol=1e-12)


def test_reconstruction_split_over_processes_and_tf_backend(kernels, gspi_segments):
  """2 worker processes: identical to 1 (per-row seeding); TF FGLA: the same to 1e-9 relative."""
  x = np.concatenate([gspi_segments, gspi_segments[:, ::-1]]).astype(np.float64)  # 16 segments
  mags = _true_gap_magnitudes(x) * 0.9
  rcfg = config.ReconstructionConfig(fgla_iterations=20)
  one = phase.reconstruct_from_magnitudes(x, mags, SIG, rcfg=rcfg, backend='numpy', workers=1)
  two = phase.reconstruct_from_magnitudes(x, mags, SIG, rcfg=rcfg, backend='numpy', workers=2)
  np.testing.assert_array_equal(one, two)
  tf_out = phase.reconstruct_from_magnitudes(x[:4], mags[:4], SIG, rcfg=rcfg, backend='tf')
  lo, hi = SIG.gap_region
  assert np.abs(tf_out[:, lo:hi] - one[:4, lo:hi]).max() < 1e-9 * np.abs(one[:4, lo:hi]).max()


@pytest.mark.parametrize('pocketfft', [True, False])
def test_fft_helpers_equal_scipy_fft(pocketfft, monkeypatch, rng):
  """FGLA's transforms into preallocated outputs = scipy.fft's rfft / irfft, bit for bit
  (and the plain scipy.fft fallback when scipy's pocketfft module is not where it is looked for)."""
  from scipy import fft as sfft
  if not pocketfft:
    monkeypatch.setattr(dgt, '_pocketfft', None)
  x = rng.standard_normal((3, 11, SIG.M))
  c = sfft.rfft(rng.standard_normal((3, 11, SIG.M)))
  np.testing.assert_array_equal(dgt.rfft_into(x, np.empty_like(c)), sfft.rfft(x, axis=-1))
  np.testing.assert_array_equal(dgt.irfft_into(c, SIG.M, np.empty_like(x)), sfft.irfft(c, n=SIG.M, axis=-1))
  # unscaled inverse (FGLA folds 1/M into the dual window): the same floats for M a power of 2
  np.testing.assert_array_equal(dgt.irfft_into(c, SIG.M, np.empty_like(x), scaled=False) / SIG.M,
                                sfft.irfft(c, n=SIG.M, axis=-1))
