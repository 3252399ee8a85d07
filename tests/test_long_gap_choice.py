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
