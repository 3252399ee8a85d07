"""Silence rule, windowing and the gap-RMS filter (paper §3.2), against hand computations."""

import numpy as np
import pytest
import soundfile as sf

from audio_context_encoder.config import DataConfig
from audio_context_encoder.audio import audio_io
from audio_context_encoder.data import segmenting
from tfrecords_tools import writer

DATA = DataConfig()


def tone(n, amp=0.5, f=440.0, fs=16000):
  return (amp * np.sin(2 * np.pi * f * np.arange(n) / fs)).astype(np.float32)


def known_track():
  """zeros 20480 | tone 41088 | zeros 10240 | tone 30720 | zeros 15360 (117888 samples)."""
  z = lambda n: np.zeros(n, np.float32)  # noqa: E731
  return np.concatenate([z(20480), tone(41088), z(10240), tone(30720, f=660.0), z(15360)])


def test_counts_of_known_track_match_hand_computation():
  x = known_track()
  seg = segmenting.segment_track(x, 5120, DATA)
  # Silence rule, frames of 1024: frame 20 (20480) is the first loud one; the second tone
  # ends at 102528, inside frame 100 (102400..103424) whose 128 tone samples make it loud.
  assert seg.trimmed == (20480, 103424)
  # Windows every 512 inside the 82944 kept samples: (82944 - 5120) / 512 + 1 = 153.
  assert seg.n_windows == 153
  # Inner silence [61568, 71808). Window s = 20480 + 512 k. The 64 ms gap [s+2048, s+3072)
  # is silent for s in [59520, 68736] -> k = 77..94 (18 windows); the 48 ms gap
  # [s+2176, s+2944) for s in [59392, 68864] -> k = 76..94 (19 windows).
  thr = DATA.gap_rms_threshold
  k = (seg.offsets - 20480) // 512
  assert np.sum(seg.rms_64 >= thr) == 153 - 18
  assert np.sum(seg.rms_48 >= thr) == 153 - 19
  # Stored: kept by either filter, i.e. all but the 18 silent for both.
  assert len(seg.offsets) == 135
  assert set(range(153)) - set(k.tolist()) == set(range(77, 95))
  assert set(k[seg.rms_48 < thr].tolist()) == {76}


def test_known_track_counts_through_the_writer(tmp_path):
  """The same hand-computed counts from a WAV file, in the built dataset's manifest."""
  sf.write(tmp_path / 'known.wav', known_track(), 16000, subtype='FLOAT')
  item = writer.TrackItem('known', str(tmp_path / 'known.wav'), 'test')
  m = writer.build([item], tmp_path / 'out', 'folder', progress=False, processes=1)
  s = m['splits']['test']
  assert (s['windows'], s['kept_64'], s['kept_48'], s['records']) == (153, 135, 134, 135)
  assert s['kept_seconds'] == pytest.approx((103424 - 20480) / 16000, abs=0.01)


@pytest.mark.parametrize('factor, loud', [(1 + 1e-6, True), (1 - 1e-6, False)])
def test_silence_rule_at_threshold(factor, loud):
  thr = DATA.silence_rms_threshold
  x = np.zeros(4 * 1024, np.float32)
  x[1024:2048] = thr * factor  # a constant frame has RMS = its value
  start, end = segmenting.trim_silence(x.astype(np.float64), 1024, thr)
  assert (start, end) == ((1024, 2048) if loud else (0, 0))


def test_silence_rule_partial_last_frame():
  """The last frame is shorter; its RMS is over its own samples."""
  x = np.zeros(2048 + 100, np.float64)
  x[-100:] = 0.02
  assert segmenting.trim_silence(x, 1024, 1e-2) == (2048, 2148)


@pytest.mark.parametrize('gap_ms, lo, hi', [(64, 2048, 3072), (48, 2176, 2944)])
@pytest.mark.parametrize('factor, kept', [(1 + 1e-6, True), (1 - 1e-6, False)])
def test_gap_rms_filter_at_threshold(gap_ms, lo, hi, factor, kept):
  thr = DATA.gap_rms_threshold
  x = tone(5120).astype(np.float64)
  x[2048:3072] = 0.0  # the whole 64 ms gap quiet ...
  x[lo:hi] = thr * factor  # ... except the gap being tested, at the threshold
  rms = segmenting.gap_rms(x, np.array([0]), gap_ms)
  assert rms[0] == pytest.approx(thr * factor, rel=1e-9)
  assert (rms[0] >= thr) == kept
  seg = segmenting.segment_track(x, 5120, DATA)
  assert len(seg.offsets) == (1 if kept else 0)


def test_extract_margins_and_zero_padding():
  x = np.arange(1, 20001, dtype=np.float32)
  w = segmenting.extract(x, np.array([0, 512, 20000 - 5120]), 5120, 256)
  assert w.shape == (3, 5632)
  assert np.all(w[0, :256] == 0) and w[0, 256] == 1  # before the track: zeros
  np.testing.assert_array_equal(w[1], x[512 - 256:512 + 5120 + 256])
  assert w[2, 256 + 5119] == 20000 and np.all(w[2, -256:] == 0)


def test_centre_clip_and_note_fit():
  assert segmenting.centre_clip(100, 1100, 400) == (400, 800)
  assert segmenting.centre_clip(0, 300, 400) == (0, 300)
  assert len(segmenting.fit_note(np.ones(10), 64000)) == 64000
  np.testing.assert_array_equal(segmenting.fit_note(np.arange(70000.0), 64000), np.arange(64000.0))


def test_resampling_matches_analytic_tone(tmp_path):
  """44.1 kHz stereo WAV of a 1 kHz tone -> 16 kHz mono equals the 16 kHz tone."""
  t44 = np.arange(44100) / 44100
  left = 0.5 * np.sin(2 * np.pi * 1000 * t44)
  sf.write(tmp_path / 'a.wav', np.stack([left, 0.5 * left], axis=1), 44100, subtype='FLOAT')
  y = audio_io.load(tmp_path / 'a.wav')
  assert len(y) == 16000
  expected = 0.75 * 0.5 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
  assert np.max(np.abs(y[500:-500] - expected[500:-500])) < 1e-3


def test_mp3_decoder_matches_libsndfile(tmp_path):
  """tensorflow-io's MP3 decoder against libsndfile's (mpg123), on an MP3 libsndfile wrote."""
  x = 0.5 * np.sin(2 * np.pi * 330 * np.arange(22050) / 22050)
  sf.write(tmp_path / 'a.mp3', x, 22050, format='MP3')
  ref, rate = sf.read(tmp_path / 'a.mp3', dtype='float32')
  ours, rate_ours = audio_io._read_mp3(tmp_path / 'a.mp3')
  assert rate_ours == rate == 22050
  np.testing.assert_allclose(ours[:, 0], ref, atol=1e-4)


def test_undecodable_file_error_names_it(tmp_path):
  bad = tmp_path / 'broken.ogg'
  bad.write_bytes(b'OggS' + bytes(range(256)) * 4)
  with pytest.raises(audio_io.AudioDecodeError, match='broken.ogg'):
    audio_io.load(bad)


def test_int16_round_trip_within_half_lsb(rng):
  x = rng.uniform(-1, 1, 10000)
  q = writer.to_int16(x).astype(np.float64) / 32768
  assert np.max(np.abs(q - np.clip(x, -1, 32767 / 32768))) <= 0.5 / 32768 + 1e-12
