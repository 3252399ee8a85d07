"""The long-gap default's measurement (evaluation/long_gap_choice.py): room for every candidate's
context around both gaps, and the best method read from a scored set."""

import numpy as np
import pytest

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


@pytest.mark.slow  # a subprocess
def test_the_entry_point_writes_the_table(tmp_path):
  """`python -m experiments.longgap.default` on a small built dataset: one table row per method,
  the best by ViSQOL named, written where --out says."""
  import subprocess
  import sys
  from tests.test_faults_builds import ENV
  from tests.test_faults_tables import dataset
  from tests.test_data_build import ROOT
  data = dataset(tmp_path, 'music', 2, seconds=7.0)
  out = tmp_path / 'default.md'
  proc = subprocess.run([sys.executable, '-m', 'experiments.longgap.default', f'--data_dir={data}',
                         '--excerpts=2', '--gap_ms=100', '--candidates=longgap-lpc,longgap-interp',
                         '--clip_sets=', f'--out={out}'], cwd=ROOT, env=ENV, capture_output=True,
                        text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  rows = [line for line in out.read_text().splitlines() if line.startswith('| 100 ms (2 excerpts)')]
  assert [r.split(' | ')[2] for r in rows] == ['zeroed', 'longgap-lpc', 'longgap-interp']
  assert proc.stdout.strip().splitlines()[-1] in ('100 ms: longgap-lpc', '100 ms: longgap-interp')
  bad = subprocess.run([sys.executable, '-m', 'experiments.longgap.default', '--gap_ms=50'],
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
  assert bad.returncode == 2 and 'longer than 64 ms' in bad.stderr
