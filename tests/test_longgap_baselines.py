"""Long-gap baselines on signals whose answer is known."""

import numpy as np
import pytest

from audio_context_encoder.longgap import baselines
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import deep_prior
from audio_context_encoder.longgap import metrics
from audio_context_encoder.longgap import phase_options
from audio_context_encoder.dsp import spectrogram

SR = 16000


def tone(freqs=(440.0, 1234.0), amps=(0.5, 0.2), n=SR):
  t = np.arange(n) / SR
  return sum(a * np.sin(2 * np.pi * f * t) for f, a in zip(freqs, amps))[None]


MASK = config.SC09.test_mask_array(1)


def test_masked_input_scores_as_the_paper_first_row():
  x = tone()
  y = baselines.MaskedInput().fill(x, MASK)
  assert (y[MASK] == 0).all() and (y[~MASK] == x[~MASK]).all()
  np.testing.assert_allclose(metrics.snr_gap(y, x, MASK), 0.0, atol=1e-12)
  # eq. 2 of zeros: the mean |A| over the gap times the gap's share of the clip (0.2)
  assert metrics.masked_l1(y, x, MASK)[0] == pytest.approx(0.2 * np.abs(x[MASK]).mean())


def test_lpc_is_near_perfect_on_a_stationary_tone_and_leaves_the_context_bit_exact():
  x = tone()
  lpc = baselines.LongLPC()
  y = lpc.fill(x, MASK)
  assert metrics.snr_gap(y, x, MASK)[0] > 25
  assert metrics.masked_l1(y, x, MASK)[0] < 0.05 * metrics.masked_l1(np.where(MASK, 0, x), x, MASK)[0]
  assert (y[~MASK] == x[~MASK]).all() and lpc.fallbacks == 0


def test_lpc_never_reads_the_gap_and_uses_one_side_at_an_edge(rng):
  x = tone()
  noisy = x.copy()
  noisy[MASK] = rng.normal(size=MASK.sum())  # garbage in the gap changes nothing
  np.testing.assert_array_equal(baselines.LongLPC().fill(x, MASK), baselines.LongLPC().fill(noisy, MASK))
  edge = np.zeros_like(MASK)
  edge[0, -3200:] = True  # no context after the gap: forward prediction alone
  assert metrics.snr_gap(baselines.LongLPC().fill(x, edge), x, edge)[0] > 20


def test_griffin_lim_gt_is_an_oracle_close_in_magnitude_not_in_phase():
  x = tone()
  y = baselines.GriffinLimGT(iterations=50).fill(x, MASK)
  assert metrics.spectrogram_ssim(y, x, SR)[0] > 0.9
  assert baselines.GriffinLimGT.oracle and baselines.GriffinLimGT.zone is None


def test_context_phase_gt_keeps_the_known_samples_and_continues_the_context():
  x = tone()
  y = baselines.ContextPhaseGT(iterations=50).fill(x, MASK)
  assert (y[~MASK] == x[~MASK]).all()  # zone 0: pasted back bit-exact
  gl = baselines.GriffinLimGT(iterations=50).fill(x, MASK)
  assert metrics.snr_gap(y, x, MASK)[0] > 25 > metrics.snr_gap(gl, x, MASK)[0] + 20
  assert baselines.ContextPhaseGT.oracle and baselines.ContextPhaseGT.zone == 0


def test_similarity_graph_copies_a_matching_period():
  x = tone((500.0,), (0.5,))  # period 32 samples: a copy one hop away is exact
  sg = baselines.SimilarityGraph()
  y = sg.fill(x, MASK)
  assert metrics.snr_gap(y, x, MASK)[0] > 60 and sg.failures == 0
  s, e = config.gap_bounds(MASK[0])
  assert (y[0, :s - sg.zone] == x[0, :s - sg.zone]).all()  # changes only the fade zone
  short = np.zeros((1, 4000), bool)
  short[0, 1000:3000] = True  # no room for a candidate: zeros, counted
  out = sg.fill(tone(n=4000), short)
  assert sg.failures == 1 and (out[short] == 0).all()


def test_phase_options_pghi_uses_the_context_phase():
  x = tone()[0]
  mag = np.abs(spectrogram.stft(x, 512, 128))
  masked = np.where(MASK[0], 0, x)
  snr = {m: metrics.snr_gap(phase_options.to_waveform(masked, mag, 6400, 9600, m)[None], x[None], MASK)[0]
         for m in phase_options.PHASES}
  assert snr['pghi+fgla'] > 30 > snr['gl'] + 25  # true magnitudes: PGHI near-perfect, GL not
  with pytest.raises(ValueError, match='unknown phase method'):
    phase_options.to_waveform(masked, mag, 6400, 9600, 'magic')


@pytest.mark.slow  # fits a network (about 6 s)
def test_deep_prior_fits_the_known_spectrogram_and_keeps_the_context():
  x = tone(n=4000)
  mask = np.zeros_like(x, bool)
  mask[0, 1500:2500] = True
  dp = deep_prior.DeepPrior(iterations=40, channels=8, depth=3, gl_iterations=5)
  y = dp.fill(x, mask)
  assert (y[~mask] == x[~mask]).all() and np.isfinite(y).all()
  assert len(dp.seconds_per_clip) == 1 and dp.seconds_per_clip[0] > 0
  assert dp.final_loss[0] < 0.5 * dp.first_loss[0]


@pytest.mark.slow
def test_deep_prior_puts_the_tone_in_the_gap():
  x = tone((440.0,), (0.5,))
  mag = np.abs(spectrogram.stft(x[0], 512, 128))
  image = metrics.db_image(mag.T, mag.max(), 80)
  k = np.arange(mag.shape[0])
  known = (k * 128 + 256 <= 6400) | (k * 128 - 256 >= 9600)
  fitted = deep_prior.DeepPrior(iterations=100, channels=8).fit_image(image, known)
  gap = fitted[:, ~known].mean(axis=1)
  assert abs(int(np.argmax(gap)) - round(440 / (SR / 512))) <= 1


def test_shape_errors_are_one_line():
  with pytest.raises(ValueError, match='mask shape'):
    baselines.MaskedInput().fill(np.zeros((2, 100)), np.zeros((2, 99), bool))
