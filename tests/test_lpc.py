"""LPC reference method (paper §3.5) against librosa.lpc and scipy lfiltic/lfilter."""

import numpy as np
import pytest
from scipy import signal as sps

from audio_context_encoder import config
from audio_context_encoder.dsp import lpc
from audio_context_encoder.dsp import metrics
from audio_context_encoder.dsp import reference

SIG = config.signal_config(64)
librosa = pytest.importorskip('librosa')  # test extra


@pytest.mark.parametrize('backend', ['numpy', 'tf'])
def test_burg_equals_librosa_lpc_order_1000(backend, kernels, gspi_16k):
  contexts = np.stack([gspi_16k[s:s + 2048] for s in 1500 + 2900 * np.arange(6)])
  if backend == 'tf':
    from audio_context_encoder.dsp import lpc_tf
    ours = lpc_tf.burg(contexts, 1000)
  else:
    ours = lpc.burg(contexts, 1000)
  ref = librosa.lpc(contexts, order=1000, axis=-1)
  assert ours.shape == (6, 1001)
  np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)
  assert np.abs(ref).max() > 0.5  # a non-trivial fit


def test_extrapolate_equals_lfilter_with_lfiltic_state(kernels, gspi_16k):
  context = gspi_16k[10000:12048][None]
  a = librosa.lpc(context[0], order=1000)[None]
  zi = sps.lfiltic([1.0], a[0], context[0][::-1][:1000])
  ref = sps.lfilter([1.0], a[0], np.zeros(1024), zi=zi)[0]
  np.testing.assert_allclose(lpc.extrapolate(context, a, 1024)[0], ref, rtol=0, atol=1e-12)


def _reference_inpaint(segment, sig):
  """The recipe of docs/reference.md, "LPC reference", one segment at a time, from librosa + scipy."""
  def side(context):
    a = librosa.lpc(context, order=1000)
    zi = sps.lfiltic([1.0], a, context[::-1][:1000])
    return sps.lfilter([1.0], a, np.zeros(sig.Lg), zi=zi)[0]
  fwd = side(segment[:sig.Lc])
  bwd = side(segment[sig.Lc + sig.Lg:][::-1])[::-1]
  w = np.cos(np.linspace(0, np.pi / 2, sig.Lg)) ** 2
  return w * fwd + w[::-1] * bwd


@pytest.mark.parametrize('gap_ms,backend', [(64, 'numpy'), (48, 'numpy'), (64, 'tf')])
def test_lpc_inpaint_equals_reference_recipe(gap_ms, backend, kernels, gspi_segments):
  sig = config.signal_config(gap_ms)
  x = gspi_segments[:3]
  out, n_fallback = lpc.lpc_inpaint(x, sig, backend=backend)
  assert n_fallback == 0
  gap = slice(sig.Lc, sig.Lc + sig.Lg)
  for i in range(3):
    ref = _reference_inpaint(x[i].astype(np.float64), sig)
    np.testing.assert_allclose(out[i, gap], ref, rtol=0, atol=1e-5 * np.abs(x[i]).max())
  # Outside the gap: bit-exact, dtype kept.
  assert out.dtype == x.dtype
  np.testing.assert_array_equal(out[:, :sig.Lc], x[:, :sig.Lc])
  np.testing.assert_array_equal(out[:, sig.Lc + sig.Lg:], x[:, sig.Lc + sig.Lg:])


def test_three_sinusoids(kernels, rng):
  t = np.arange(SIG.L) / SIG.sample_rate
  clean = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t + 1)
           + 0.2 * np.sin(2 * np.pi * 3100 * t + 2))
  # A -80 dB noise floor, as any recorded or quantised signal has.
  noisy = clean + 1e-4 * rng.standard_normal(SIG.L)
  out, n_fallback = lpc.lpc_inpaint(noisy[None], SIG)
  assert n_fallback == 0
  assert metrics.snr_td(clean[None], out, SIG)[0] > 30
  # Noise-free: Burg reaches the rounding floor after a few orders and stops there
  # (documented); the result is finite, bounded and still a usable extrapolation.
  out, n_fallback = lpc.lpc_inpaint(clean[None], SIG)
  assert n_fallback == 0 and np.all(np.isfinite(out))
  assert metrics.snr_td(clean[None], out, SIG)[0] > 10


def test_degenerate_contexts_fall_back_and_are_counted(kernels, gspi_segments):
  silent = np.zeros(SIG.L, np.float32)
  constant = np.full(SIG.L, 0.25, np.float32)
  half = gspi_segments[0].copy()
  half[:SIG.Lc] = 0  # silent before the gap only
  out, n_fallback = lpc.lpc_inpaint(np.stack([silent, constant, half, gspi_segments[1]]), SIG)
  assert n_fallback == 3
  gap = slice(SIG.Lc, SIG.Lc + SIG.Lg)
  np.testing.assert_array_equal(out[0, gap], 0)
  np.testing.assert_allclose(out[1, gap], 0.25, atol=1e-7)  # held constant
  assert np.all(np.isfinite(out))


def test_mix_window():
  w = lpc.mix_window(1024)
  assert w[0] == 1 and abs(w[-1]) < 1e-30
  np.testing.assert_allclose(w + w[::-1], 1.0, atol=1e-15)


def test_wrong_length():
  with pytest.raises(ValueError, match='5120 samples'):
    lpc.lpc_inpaint(np.zeros((1, 4000)), SIG)


def test_worker_processes_and_backends_give_the_same_gaps(kernels, gspi_segments):
  """Rows split over 2 processes: bit-identical to one process; TF graph: same to rounding."""
  x = np.concatenate([gspi_segments, gspi_segments[:, ::-1]])  # 16 segments
  one, _ = lpc.lpc_inpaint(x, SIG, workers=1, backend='numpy')
  two, _ = lpc.lpc_inpaint(x, SIG, workers=2, backend='numpy')
  np.testing.assert_array_equal(one, two)
  tf_out, _ = lpc.lpc_inpaint(x[:4], SIG, backend='tf')
  gap = slice(SIG.Lc, SIG.Lc + SIG.Lg)
  np.testing.assert_allclose(tf_out[:, gap], one[:4, gap], rtol=0, atol=1e-6 * np.abs(x).max())
  # The batched numpy Burg is the pre-issue-12 code's arithmetic, operation for operation;
  # the numba kernel the same recursion with vectorised (reassociated) sums: the 1e-6.
  contexts = x[:, :SIG.Lc].astype(np.float64)
  if kernels == 'numpy':
    np.testing.assert_array_equal(lpc.burg(contexts, 1000), reference.burg(contexts, 1000))
  else:
    np.testing.assert_allclose(lpc.burg(contexts, 1000), reference.burg(contexts, 1000), rtol=0, atol=1e-6)
