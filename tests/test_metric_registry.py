"""The metric registry (evaluation/metric_registry.py): a new metric is one function and one
registration, and evaluate, the folder `evaluate`, Tables 2-3 and the long-gap Table 2 show it."""

import numpy as np
import pytest
import soundfile as sf

from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation, folder_evaluation, metric_registry
from audio_context_encoder.evaluation import paper_tables
from audio_context_encoder.evaluation.metric_registry import Metric
from audio_context_encoder.evaluation import longgap_report, longgap_scoring

SIG64 = config.signal_config(64)


def gap_energy_db(original, restored, sig):
  """A new segment metric: the restored gap's energy relative to the original's, in dB."""
  o = np.asarray(original, np.float64)[:, sig.Lc:sig.Lc + sig.Lg]
  r = np.asarray(restored, np.float64)[:, sig.Lc:sig.Lc + sig.Lg]
  return 10 * np.log10(np.sum(r ** 2, axis=1) / np.sum(o ** 2, axis=1))


@pytest.fixture
def gap_energy():
  metric_registry.register(Metric('gap_energy', 'Gap energy', 'dB', True, metric_registry.SEGMENT,
                                  gap_energy_db, 'the restored gap\'s energy over the original\'s'))
  yield
  metric_registry.unregister('gap_energy')


def test_the_built_in_metrics_and_their_directions():
  segment = [m.name for m in metric_registry.of_kind(metric_registry.SEGMENT)]
  assert segment == ['snr_ms', 'snr_td']
  assert longgap_report.table2_columns() == ('ML1', 'SSIM', 'SNR gap (dB)', 'spectral SNR (dB)',
                                             'ViSQOL', 'PD wave', 'PD spec')
  assert longgap_scoring.PD == ('PD wave', 'PD spec')
  arrows = {m.label: m.arrow for m in metric_registry.of_kind(metric_registry.CLIP)}
  assert arrows == {'ML1': '↓', 'SSIM': '↑', 'SNR gap (dB)': '↑', 'spectral SNR (dB)': '↑',
                    'ViSQOL': '↑', 'PD wave': '↓', 'PD spec': '↓'}
  assert metric_registry.get('visqol').unit == 'MOS-LQO'


def test_a_name_is_registered_once_and_a_kind_must_exist():
  with pytest.raises(ValueError, match='registered already'):
    metric_registry.register(Metric('snr_ms', 'again', 'dB', True, metric_registry.SEGMENT, None))
  with pytest.raises(ValueError, match='kind must be one of'):
    metric_registry.register(Metric('x', 'x', '', True, 'frame', None))
  with pytest.raises(KeyError, match="unknown metric 'nope'"):
    metric_registry.get('nope')


def test_a_new_segment_metric_reaches_evaluate_and_the_tables(gap_energy, gspi_16k, tmp_path):
  starts = np.arange(4) * 6000 + 4000
  windows = np.stack([gspi_16k[s:s + 5632] for s in starts]).astype(np.float32)
  out = evaluation.evaluate(windows, 'lpc', 64)
  seg = windows[:, 256:256 + 5120]
  restored = evaluation.evaluate(windows, 'lpc', 64, return_restored=True)['restored']
  np.testing.assert_array_equal(out['gap_energy'], gap_energy_db(seg, restored, SIG64))
  # Table 3's extended network: the new metric per extension and their mean, like SNR_MS.
  flat = lambda segments: np.full((len(segments), SIG64.gap_frames, SIG64.bins), 0.1)
  ext = evaluation.evaluate(np.stack([gspi_16k[s:s + 5632] for s in starts]), 'network', 48,
                            predict_fn=flat)
  np.testing.assert_allclose(ext['gap_energy'], np.mean(
      [ext[f'gap_energy_{n}'] for n in ('forward', 'backward', 'centred')], axis=0))
  # Tables 2-3: a row and a CSV column beside SNR_TD's.
  out['track_id'] = np.array(['a', 'a', 'b', 'b'])
  s = paper_tables.summary(out)
  assert s['gap_energy_mean'] == pytest.approx(np.mean(out['gap_energy']))
  results = {(2, 'music', 'lpc'): s}
  md = paper_tables.markdown(2, results, ('lpc',), {'music': 'd', 'instruments': None}, 'test',
                             {}, 0, 'pghi+fgla', 'cmd')
  row = [line for line in md.splitlines() if line.startswith('| Gap energy mean |')]
  assert row and f'{s["gap_energy_mean"]:.1f}' in row[0]
  rows = paper_tables.csv_rows(2, results, ('lpc',), {'music': 'd', 'instruments': None}, {}, 'c')
  assert rows[0]['gap_energy_mean'] == s['gap_energy_mean']
  # The folder `evaluate`: per-segment rows and the summary.
  sf.write(tmp_path / "gspi.wav", gspi_16k, 16000)
  result = folder_evaluation.evaluate_folder(str(tmp_path), evaluation.resolve('lpc'), 64,
                                             max_segments=3, progress=False)
  assert len(result['rows']['gap_energy']) == 3
  summary = folder_evaluation.summary(result, 'lpc', 64)
  assert summary['gap_energy']['n'] == 3


def test_a_new_clip_metric_reaches_the_longgap_table(rng):
  clips = rng.standard_normal((2, 4000))
  mask = np.zeros(clips.shape, bool)
  mask[:, 1600:2400] = True
  restored = np.where(mask, 0.0, clips)
  metric_registry.register(Metric('gap_rms', 'gap RMS', '', False, metric_registry.CLIP,
                                  lambda r, t, m, rate, context: np.sqrt(np.mean(
                                      np.where(m, r - t, 0.0) ** 2, axis=1))))
  try:
    scores = longgap_scoring.score(restored, clips, mask, 16000)
    np.testing.assert_allclose(scores['gap RMS'], np.sqrt(np.mean(np.where(mask, clips, 0) ** 2, 1)))
    assert 'gap RMS' in longgap_report.table2_columns()
    assert 'PD wave' not in scores and 'ViSQOL' not in scores  # no classifiers, no ViSQOL scorer
  finally:
    metric_registry.unregister('gap_rms')
  assert 'gap RMS' not in longgap_report.table2_columns()
