"""The evaluation function (paper §3.4, Tables 2-3) with in-process data and stub networks."""

import json

import numpy as np
import pytest

from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.context_encoder import features
from audio_context_encoder.dsp import lpc
from audio_context_encoder.dsp import metrics

SIG64 = config.signal_config(64)
SIG48 = config.signal_config(48)
FAST = config.paper().replace(reconstruction=config.ReconstructionConfig(fgla_iterations=10))


@pytest.fixture(scope='module')
def windows():
  """Six 5632-sample windows (segment + 256 margins) of gspi at 16 kHz."""
  from audio_context_encoder.audio.audio_file import glockenspiel_16k
  x = glockenspiel_16k()
  return np.stack([x[s:s + 5632] for s in 1000 + 3300 * np.arange(6)]).astype(np.float32)


def oracle_magnitudes(segments):
  """A perfect magnitude network: the true gap magnitudes (TF STFT, independent of our DGT)."""
  return features.gap_magnitude(np.asarray(segments, np.float32), SIG64).numpy()


def oracle_complex(segments):
  return features.gap_stft(np.asarray(segments, np.float32), SIG64).numpy()


def test_lpc_64_equals_direct_computation(windows):
  out = evaluation.evaluate(windows, 'lpc', 64)
  seg = windows[:, 256:256 + 5120]
  restored, n_fallback = lpc.lpc_inpaint(seg, SIG64)
  np.testing.assert_array_equal(out['snr_ms'], metrics.snr_ms(seg, restored, SIG64))
  np.testing.assert_array_equal(out['snr_td'], metrics.snr_td(seg, restored, SIG64))
  assert out['n_fallback'] == n_fallback == 0


def test_lpc_48_uses_the_48_layout(windows):
  out = evaluation.evaluate(windows[:2], 'lpc', 48, return_restored=True)
  seg = windows[:2, 256:256 + 5120]
  np.testing.assert_array_equal(out['restored'], lpc.lpc_inpaint(seg, SIG48)[0])


def test_network_64_oracle(windows):
  out = evaluation.evaluate(windows, 'network', 64, predict_fn=oracle_magnitudes, config=FAST)
  assert np.all(out['snr_mag'] > 80)  # float32 TF STFT vs float64 DGT
  assert np.all(out['snr_ms'] > 20)
  zero = evaluation.evaluate(windows, 'network', 64, predict_fn=lambda s: 0 * oracle_magnitudes(s),
                             config=FAST)
  np.testing.assert_allclose(zero['snr_mag'], 0.0, atol=1e-9)
  assert np.all(zero['snr_ms'] < 1)


def test_network_64_complex_oracle_needs_no_phase_retrieval(windows):
  out = evaluation.evaluate(windows, 'network', 64, predict_fn=oracle_complex, config=FAST)
  assert np.all(out['snr_td'] > 60)


def test_network_48_extensions(windows):
  seen = []

  def stub(segments):
    seen.append(np.array(segments))
    return oracle_magnitudes(segments)

  out = evaluation.evaluate(windows[:3], 'network', 48, predict_fn=stub, config=FAST)
  assert len(seen) == 3
  gap48 = windows[:3, 256 + 2176:256 + 2176 + 768]
  # In each 5120 window the 64 ms gap [2048, 3072) holds the 48 ms gap after 0, 256, 128 samples.
  for w, before in zip(seen, (0, 256, 128)):
    np.testing.assert_array_equal(w[:, 2048 + before:2048 + before + 768], gap48)
  for name in ('forward', 'backward', 'centred'):
    assert np.all(out[f'snr_ms_{name}'] > 20)
  np.testing.assert_allclose(
      out['snr_ms'], (out['snr_ms_forward'] + out['snr_ms_backward'] + out['snr_ms_centred']) / 3)
  # Table 3's "SNR before phase retrieval": the oracle's magnitudes on each extended 64 ms gap,
  # against an independent DGT (ltfat layout) of those windows.
  for name in ('forward', 'backward', 'centred'):
    assert np.all(out[f'snr_mag_{name}'] > 80)
  zero = evaluation.evaluate(windows[:3], 'network', 48, predict_fn=lambda s: 0 * stub(s), config=FAST)
  np.testing.assert_allclose(zero['snr_mag'], 0.0, atol=1e-9)


def test_tables_2_and_3_name_the_network_alike_with_the_same_lines(windows):
  from audio_context_encoder.evaluation import paper_tables
  results = {}
  for table, gap_ms in paper_tables.TABLE_GAP.items():
    for kind in paper_tables.KINDS:
      for method, predict in (('network', oracle_magnitudes), ('lpc', None)):
        out = evaluation.evaluate(windows[:2], method, gap_ms, predict_fn=predict, config=FAST)
        out['track_id'] = np.array(['t', 't'])
        results[(table, kind, method)] = paper_tables.summary(out)
  texts = {t: paper_tables.markdown(t, results, ('network', 'lpc'), {'music': 'm', 'instruments': 'i'},
                                    'test', {}, 0, 'pghi+fgla', 'cmd') for t in (2, 3)}
  heads = {t: text.splitlines()[2] for t, text in texts.items()}
  assert heads[2] == heads[3] == '| | music Network | music LPC | instruments Network | instruments LPC |'
  for t in (2, 3):
    assert 'music network: SNR of the magnitudes before phase retrieval' in texts[t]


def test_errors(windows):
  with pytest.raises(ValueError, match='predict_fn'):
    evaluation.evaluate(windows, 'network', 64)
  with pytest.raises(ValueError, match="method must be one of"):
    evaluation.evaluate(windows, 'magic', 64)
  with pytest.raises(ValueError, match='margins'):
    evaluation.evaluate(windows[:, :5121], 'lpc', 64)
  with pytest.raises(ValueError, match='needs margins'):
    evaluation.evaluate(windows[:, 128:-128], 'network', 48, predict_fn=oracle_magnitudes)


@pytest.mark.slow
def test_evaluate_dataset_resumes_to_the_same_values(tmp_path):
  """A run stopped after two batches and resumed gives the uninterrupted run's values."""
  import soundfile as sf
  from audio_context_encoder.config import DataConfig
  from tfrecords_tools import sources, writer
  rng = np.random.default_rng(0)
  folder = tmp_path / 'in'
  folder.mkdir()
  t = np.arange(16000) / 16000
  for i in range(10):
    x = 0.4 * np.sin(2 * np.pi * (200 + 37 * i) * t) + 0.05 * rng.standard_normal(len(t))
    sf.write(folder / f'track{i:02d}.wav', x, 16000, subtype='PCM_16')
  data = DataConfig()
  items = sources.folder_items(folder, data.music_split, data.split_seed)
  writer.build(items, tmp_path / 'ds', 'folder', data=data, progress=False, tracks_per_shard=2,
               processes=1)
  ds = str(tmp_path / 'ds')
  full = evaluation.evaluate_dataset(ds, 'train', 'lpc', 64, batch_size=8, progress=False)
  assert len(full['snr_ms']) > 16
  resume = str(tmp_path / 'state.npz')
  part = evaluation.evaluate_dataset(ds, 'train', 'lpc', 64, batch_size=8, max_segments=16,
                                     resume_path=resume, progress=False)
  assert len(part['snr_ms']) == 16
  # A limited run is a fixed stride over the whole split, not its first 16 segments.
  picks = metrics.spread_indices(len(full['snr_ms']), 16)
  np.testing.assert_array_equal(part['snr_ms'], full['snr_ms'][picks])
  np.testing.assert_array_equal(part['index'], picks)  # positions in the split (figures use them)
  assert len(set(part['track_id'])) == len(set(full['track_id'])) > 1
  part24 = evaluation.evaluate_dataset(ds, 'train', 'lpc', 64, batch_size=8, max_segments=24,
                                       progress=False)
  for limit in (0, 24):  # a stopped run (first two batches saved) resumed, full and limited
    with np.load(resume) as saved:
      state = {k: saved[k] for k in saved.files}
    wanted = full if not limit else part24
    state.update({k: wanted[k][:16] for k in ('snr_ms', 'snr_td', 'offset', 'track_id', 'index')})
    # The saved job key of a run with this limit (evaluation.job_key): the same selection.
    state['key'] = np.array(json.dumps(evaluation.job_key(ds, 'train', evaluation.resolve('lpc'), 64,
                                                          limit, 8), sort_keys=True))
    state['snr_ms'] = state['snr_ms'].copy()
    state['snr_ms'][0] = 1234.5  # mark a saved value: a resumed run must reuse, not recompute
    np.savez(resume, **state)
    again = evaluation.evaluate_dataset(ds, 'train', 'lpc', 64, batch_size=8, max_segments=limit,
                                        resume_path=resume, progress=False)
    assert again['snr_ms'][0] == 1234.5
    again['snr_ms'][0] = wanted['snr_ms'][0]
    for key in ('snr_ms', 'snr_td', 'offset', 'track_id', 'index'):
      np.testing.assert_array_equal(again[key], wanted[key])
  assert full['n_fallback'] == 0
