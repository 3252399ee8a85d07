"""The long-gap default's measurement (evaluation/long_gap_choice.py): room for every candidate's
context around both gaps, and the best method read from a scored set."""

import numpy as np

from audio_context_encoder import methods
from audio_context_encoder.evaluation import excerpts, long_gap_choice


def test_both_gaps_have_the_context_every_candidate_needs():
  for ms in (100, 200, 300, 500, 1000):
    protocol = long_gap_choice.protocol_for(ms)
    n = int(ms * excerpts.RATE / 1000)
    (a0, a1), (b0, b1) = [g.samples(excerpts.RATE) for g in protocol.gap_list()]
    room = min(a0, b0 - a1, protocol.samples - b1)  # before, between and after the gaps
    for name in ('longgap-lpc', 'similarity', 'longgap-interp'):
      assert methods.get(name).needs(n)[0] <= room, (ms, name)


def test_the_best_is_the_highest_mean_visqol_and_never_the_silent_floor():
  record = {'methods': [excerpts.ZEROED, 'a', 'b'], 'excerpts': [
      {'scores': {excerpts.ZEROED: {'visqol': 4.9}, 'a': {'visqol': 4.0}, 'b': {'visqol': 4.2}}},
      {'scores': {excerpts.ZEROED: {'visqol': 4.9}, 'a': {'visqol': 4.6}, 'b': {'visqol': 4.3}}}]}
  assert long_gap_choice.best(record) == 'a'  # 4.30 against 4.25
  assert np.isclose(np.mean(excerpts.scores_of(record, 'b')), 4.25)


def test_a_clip_set_is_scored_with_the_methods_that_fit_its_gap(tmp_path):
  """The SC09 protocol's 0.2 s gap in 1 s clips: similarity needs more context than the clip has
  and is left out; the others fill it and are scored in ViSQOL's speech mode."""
  from audio_context_encoder.longgap import config
  from tfrecords_tools import longgap_dataset
  t = np.arange(16000) / 16000
  items = [longgap_dataset.ClipItem(split, str(i), f'{split}{i}', 'test', 'synthetic',
                                    load=lambda f=300 + 40 * i: 0.3 * np.sin(2 * np.pi * f * t))
           for split, n in (('train', 1), ('valid', 1), ('test', 3)) for i in range(n)]
  longgap_dataset.write(items, tmp_path / 'clips', config.SC09, 'synthetic')
  record = long_gap_choice.measure_clips(str(tmp_path / 'clips'),
                                         ['longgap-lpc', 'similarity', 'longgap-interp'], 2,
                                         progress=False)
  assert record['methods'] == [excerpts.ZEROED, 'longgap-lpc', 'longgap-interp']
  assert record['visqol_mode'] == 'speech' and len(record['excerpts']) == 2
  for name in record['methods']:
    assert np.all(np.isfinite(excerpts.scores_of(record, name)))
  assert np.all(excerpts.scores_of(record, 'longgap-lpc', 'snr_td') > 10)  # a tone, well predicted
