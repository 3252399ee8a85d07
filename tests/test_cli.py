"""The user's entry point: `python -m audio_context_encoder inpaint|evaluate`."""

import json

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.evaluation.folder_evaluation import windows_of

RATES = [16000, 44100, 48000]


def write_tones(path, rate, channels, seconds=1.0, subtype='PCM_16', seed=0):
  rng = np.random.default_rng(seed)
  t = np.arange(int(rate * seconds)) / rate
  x = np.stack([0.2 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + 0.1 * np.sin(2 * np.pi * 2.5 * f * t)
                for f in (330.0, 440.0)[:channels]], axis=1)
  soundfile.write(str(path), x, rate, subtype=subtype)
  return soundfile.read(str(path), always_2d=True)[0]


@pytest.fixture(scope='module')
def small_model(tmp_path_factory):
  """An (untrained) small magnitude network saved as a .keras file: the CLI plumbing only."""
  cfg = config.get('small')
  path = tmp_path_factory.mktemp('model') / 'small.keras'
  model_lib.save_model(model_lib.build_model(cfg), cfg, str(path))
  return str(path)


def changed_mask(n, rate, gaps, zone16):
  """The documented zone: the gap's samples in the file plus ceil(zone16 * rate / 16000) on
  each side (zone16: the method's zone and edge guard at 16 kHz)."""
  mask = np.zeros(n, bool)
  reach = int(np.ceil(zone16 * rate / 16000))
  for start, ms in gaps:
    first, end = int(np.floor(start * rate + 1e-9)), int(np.ceil((start + ms / 1000) * rate - 1e-9))
    mask[first - reach:end + reach] = True
  return mask


@pytest.mark.parametrize('rate', RATES)
@pytest.mark.parametrize('channels', [1, 2])
def test_lpc_fills_gaps_and_nothing_else(tmp_path, rate, channels):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  clean = write_tones(src, rate, channels)
  damaged = clean.copy()
  gaps = [(0.3, 64), (0.62, 48)]
  for start, ms in gaps:
    damaged[int(start * rate):int((start + ms / 1000) * rate)] = 0
  soundfile.write(str(src), damaged, rate, subtype='PCM_16')
  damaged = soundfile.read(str(src), always_2d=True)[0]
  args = ['inpaint', str(src), str(out), '--method', 'lpc'] + sum([['--gap', f'{s}:{m}'] for s, m in gaps], [])
  assert cli.main(args) == 0
  y, out_rate = soundfile.read(str(out), always_2d=True)
  assert out_rate == rate and y.shape == damaged.shape
  assert soundfile.info(str(out)).subtype == 'PCM_16'
  # The gap only; at other rates than 16 kHz plus the 1 ms edge guard (inpaint.py).
  mask = changed_mask(len(y), rate, gaps, 0 if rate == 16000 else 16)
  np.testing.assert_array_equal(y[~mask], damaged[~mask])
  for start, ms in gaps:
    a, b = int(start * rate) + 20, int((start + ms / 1000) * rate) - 20
    err = np.sum((y[a:b] - clean[a:b]) ** 2) / np.sum(clean[a:b] ** 2)
    assert 10 * np.log10(1 / err) > 20  # two steady tones are easy for LPC


def test_lpc_snr_ms_on_a_tone_is_high(tmp_path):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  clean = write_tones(src, 16000, 1, subtype='FLOAT')[:, 0]
  damaged = clean.copy()
  damaged[8000:9024] = 0
  soundfile.write(str(src), damaged, 16000, subtype='FLOAT')
  assert cli.main(['inpaint', str(src), str(out), '--method', 'lpc', '--gap', '0.5:64']) == 0
  y = soundfile.read(str(out))[0]
  sig = config.signal_config(64)
  window = slice(8000 - sig.Lc, 8000 - sig.Lc + sig.L)
  assert metrics.snr_ms(clean[None, window], y[None, window], sig)[0] > 30


def test_interp_fills_steady_tones_well_and_nothing_else(tmp_path):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  clean = write_tones(src, 16000, 1, subtype='FLOAT')
  damaged = clean.copy()
  damaged[8000:9024] = 0
  soundfile.write(str(src), damaged, 16000, subtype='FLOAT')
  assert cli.main(['inpaint', str(src), str(out), '--method', 'interp', '--gap', '0.5:64']) == 0
  y = soundfile.read(str(out), always_2d=True)[0]
  mask = changed_mask(len(y), 16000, [(0.5, 64)], 384)
  np.testing.assert_array_equal(y[~mask], damaged[~mask])
  sig = config.signal_config(64)
  window = slice(8000 - sig.Lc, 8000 - sig.Lc + sig.L)
  assert metrics.snr_ms(clean[None, window, 0], y[None, window, 0], sig)[0] > 20


@pytest.mark.parametrize('rate, channels', [(16000, 1), (44100, 2), (48000, 1)])
def test_network_changes_only_gap_and_transition(tmp_path, small_model, rate, channels):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  clean = write_tones(src, rate, channels)
  gaps = [(0.4, 64), (0.7, 30)]
  assert cli.main(['inpaint', str(src), str(out), '--method', 'network', '--model', small_model,
                   '--gap', '0.4:64', '--gap', '0.7:30']) == 0
  y = soundfile.read(str(out), always_2d=True)[0]
  mask = changed_mask(len(y), rate, gaps, 384)
  np.testing.assert_array_equal(y[~mask], clean[~mask])
  assert np.abs(y[mask] - clean[mask]).max() > 0  # an untrained network does change the gap


def test_detect_dropouts(tmp_path):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  clean = write_tones(src, 16000, 2)
  damaged = clean.copy()
  damaged[7000:7400] = 0  # 25 ms of digital silence
  soundfile.write(str(src), damaged, 16000, subtype='PCM_16')
  assert cli.main(['inpaint', str(src), str(out), '--method', 'lpc', '--detect-dropouts']) == 0
  y = soundfile.read(str(out), always_2d=True)[0]
  assert np.abs(y[7000:7400]).max() > 0.05
  np.testing.assert_array_equal(y[:7000], damaged[:7000])


@pytest.mark.parametrize('extra, message', [
    (['--gap', '0.05:64'], 'needs 128 ms of audio on both sides'),
    (['--gap', '0.3:64', '--gap', '0.33:64'], 'overlap'),
    (['--gap', '0.98:64'], 'beyond the end'),
    (['--gap', '0.5:100'], 'longer than 64 ms'),
    (['--gap', 'half:64'], 'START_SECONDS:DURATION_MS'),
    ([], 'at least one --gap'),
    (['--gap', '0.5:64', '--method', 'network', '--model', 'missing.keras'], 'no such model file'),
])
def test_bad_requests_write_nothing(tmp_path, capsys, extra, message):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  write_tones(src, 16000, 1)
  args = ['inpaint', str(src), str(out)] + extra
  if '--method' not in extra:
    args += ['--method', 'lpc']
  assert cli.main(args) == 2
  err = capsys.readouterr().err.strip()
  assert message in err and len(err.splitlines()) == 1 and 'Traceback' not in err
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


def test_network_defaults_to_the_shipped_music_model():
  """models/small-music.keras is used without --model; its provenance JSON describes it."""
  filler = methods.get('network')
  assert filler.model_path == methods.SHIPPED_MODELS['music']
  with open(filler.model_path[:-len('.keras')] + '.json') as f:
    info = json.load(f)
  assert info['residual'] == filler.cfg.network.residual != 'none'  # a residual deviation
  assert info['context_magnitudes'] == filler.cfg.network.context_magnitudes
  assert info['preset'] == filler.cfg.name == 'small'
  assert info['best_step'] > 0 and info['examples'] == info['best_step'] * info['batch_size']


def test_unreadable_input_and_bad_model(tmp_path, capsys):
  bad = tmp_path / 'in.wav'
  bad.write_bytes(b'not audio at all')
  assert cli.main(['inpaint', str(bad), str(tmp_path / 'o.wav'), '--method', 'lpc', '--gap', '0.5:64']) == 2
  assert 'cannot be read as audio' in capsys.readouterr().err
  fake = tmp_path / 'fake.keras'
  fake.write_bytes(b'zip? no')
  src = tmp_path / 'ok.wav'
  write_tones(src, 16000, 1)
  assert cli.main(['inpaint', str(src), str(tmp_path / 'o.wav'), '--method', 'network',
                   '--model', str(fake), '--gap', '0.5:64']) == 2
  assert 'cannot be loaded as a model' in capsys.readouterr().err
  assert not (tmp_path / 'o.wav').exists()


def test_evaluate_matches_tables_code(tmp_path, capsys):
  """`evaluate` on a folder = evaluation.evaluate on the same windows cut by the dataset code."""
  folder = tmp_path / 'tones'
  folder.mkdir()
  for i, rate in enumerate([16000, 44100]):
    write_tones(folder / f't{i}.wav', rate, 1, seconds=0.8, seed=i)
  report = tmp_path / 'r.json'
  assert cli.main(['evaluate', str(folder), '--method', 'lpc', '--gap-ms', '64', '--json', str(report)]) == 0
  result = json.loads(report.read_text())
  expected_ms, expected_td = [], []
  for path in sorted(folder.iterdir()):
    windows, _ = windows_of(path, 64, config.paper())
    out = evaluation.evaluate(windows, 'lpc', 64)
    expected_ms += out['snr_ms'].tolist()
    expected_td += out['snr_td'].tolist()
  assert result['summary']['segments'] == len(expected_ms) > 10
  np.testing.assert_allclose(result['segments']['snr_ms'], expected_ms)
  np.testing.assert_allclose(result['summary']['snr_td']['mean'], np.mean(expected_td))
  assert 'SNR_MS' in capsys.readouterr().out
