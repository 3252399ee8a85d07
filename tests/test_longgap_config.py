"""The long-gap protocol: the paper's numbers, masks and the ESC-50 training crop."""

import numpy as np

from audio_context_encoder.longgap import config


def test_protocol_numbers():
  assert config.SC09.clip_samples == 16000 and config.SC09.test_mask_samples() == (6400, 9600)
  assert config.ESC50.clip_samples == 110250  # "22050 x 5 = 110250 samples"
  assert config.ESC50.test_mask_samples() == (66150, 74970)
  assert config.METRIC_STFT.hop(16000) == 200 and config.DEEP_PRIOR_ITERATIONS == 4001
  assert config.ESC50_TRAIN_FOLDS == (1, 2, 3, 4) and config.ESC50_VALID_CLIPS == 200


def test_random_train_masks(rng):
  m = config.SC09.random_train_mask(rng, 50)
  assert (m.sum(axis=1) == 3200).all()
  starts = [config.gap_bounds(r)[0] for r in m]
  assert len(set(starts)) > 40


def test_esc50_train_crop_is_a_window_of_the_repeated_clip(rng):
  clip = rng.normal(size=config.ESC50.clip_samples)
  crop = config.ESC50.train_crop(clip, rng)
  assert crop.shape == clip.shape
  long = np.tile(clip, 2)
  start = int(np.flatnonzero(np.isclose(long, crop[0]))[0])
  np.testing.assert_array_equal(long[start:start + len(clip)], crop)
  assert config.SC09.train_crop(clip[:16000], rng) is not None


def test_loud_test_gap_leaves_out_clips_silent_in_the_test_gap():
  from audio_context_encoder.longgap import config as lg
  p = lg.ESC50
  clips = np.full((3, p.clip_samples), 0.1)
  s, e = p.test_mask_samples()
  clips[1, s:e] = 0.0  # silent where the test gap is
  clips[2, s:e] = 5e-5
  assert p.loud_test_gap(clips).tolist() == [True, False, False]
  assert p.loud_test_gap(clips, min_rms=1e-5).tolist() == [True, False, True]
