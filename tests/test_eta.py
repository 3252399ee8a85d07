"""The time estimate `make tables` prints before it starts (audio_context_encoder/evaluation/eta.py)."""

import json

import numpy as np
import pytest

from audio_context_encoder.evaluation import eta
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.data.manifest import REQUIRED


def test_segment_count_from_manifest(tmp_path):
  # Every key the readers require, with the counts this test is about.
  manifest = {key: None for key in REQUIRED}
  manifest['splits'] = {'test': {'records': 900, 'kept_64': 700, 'kept_48': 650}}
  (tmp_path / 'manifest.json').write_text(json.dumps(manifest))
  assert eta.segment_count(tmp_path, 'test', 64) == 700
  assert eta.segment_count(tmp_path, 'test', 48) == 650
  assert eta.segment_count(tmp_path, 'test', 64, max_segments=100) == 100
  assert eta.segment_count(tmp_path, 'valid', 64) == 0


def test_estimate_sums_jobs():
  jobs = [('music Table 2 lpc', 1000, 'a'), ('music Table 3 network', 3600, 'b')]
  text = eta.estimate(jobs, {'a': 0.01, 'b': 1.0})
  assert text.splitlines()[0] == ('estimated time: at least 1 h 00 min (the methods alone, from one '
                                  'timed batch each; reading the records, saving and the figures '
                                  'come on top)')
  assert '1,000 segments x 10.0 ms = 10 s' in text
  assert eta.format_seconds(75) == '1 min 15 s'


def test_probe_times_the_evaluation_path(monkeypatch):
  windows = eta.probe_windows(4)
  assert windows.shape == (4, 5120 + 512) and np.all(np.isfinite(windows))
  assert np.array_equal(windows, eta.probe_windows(4))  # seeded
  calls = []
  real = evaluation.evaluate

  def spy(audio, *args, **kwargs):
    calls.append(len(audio))
    return real(audio, *args, **kwargs)

  monkeypatch.setattr(evaluation, 'evaluate', spy)
  rate = eta.seconds_per_segment('lpc', 64, batch=16)
  assert calls == [16, 16]  # warm-up, then the timed batch
  assert 0 < rate < 5


@pytest.mark.parametrize('gap_ms', [64, 48])
def test_probe_windows_evaluate_as_lpc(gap_ms):
  out = evaluation.evaluate(eta.probe_windows(2), 'lpc', gap_ms)
  assert np.all(np.isfinite(out['snr_ms']))
