"""Long gaps (> 64 ms) through `inpaint` and `evaluate`: the long-gap baselines as methods."""

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.methods import inpaint
from audio_context_encoder import config, methods
from audio_context_encoder.common.errors import UserError


def damaged_tones(path, rate, channels, gap, seconds=2.0, subtype='PCM_24', seed=0):
  """Stationary tones (one per channel), [gap) overwritten by noise: (clean, damaged, gap)."""
  rng = np.random.default_rng(seed)
  t = np.arange(int(rate * seconds)) / rate
  clean = np.stack([0.4 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
                    for f in (440.0, 620.0)[:channels]], axis=1)
  a, b = int(gap[0] * rate), int(np.ceil((gap[0] + gap[1]) * rate))
  damaged = clean.copy()
  damaged[a:b] = rng.uniform(-0.5, 0.5, (b - a, channels))
  soundfile.write(str(path), damaged, rate, subtype=subtype)
  return clean, soundfile.read(str(path), always_2d=True)[0], (a, b)


def snr(ref, est):
  return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - est) ** 2))


def test_registry_offers_the_long_gap_methods_beside_the_papers():
  assert methods.long_gap_names() == ('longgap-lpc', 'similarity', 'deep-prior', 'longgap-interp',
                                      'masked', 'longgap-spec', 'longgap-wave')
  # The tables' methods: the paper's, the interpolation and Janssen's two (issue 21).
  assert methods.names() == ('network', 'interp', 'lpc', 'janssen', 'janssen-gapwise')
  lpc = methods.get('longgap-lpc')
  assert lpc.zone == 0 and lpc.max_ms == methods.LONG_MAX_MS and lpc.needs(4800) == (1000, 16384)
  sim = methods.get('similarity')
  assert sim.zone == 256
  (c1, r1), (c2, r2) = sim.needs(1600), sim.needs(8000)
  assert c2 - c1 == 6400 and r1 - c1 == methods.SEARCH  # a copy of the gap fits on each side
  dp = methods.get('deep-prior', iterations=5, model='ignored.keras')  # fitting: longgap tests
  assert dp.baseline.iterations == 5 and dp.zone == 0 and dp.needs(4800) == (2048, 12800)
  assert methods.get('deep-prior').baseline.iterations == 4001  # the paper's
  interp = methods.get('longgap-interp')
  assert interp.zone == 512 and interp.needs(1024) == (2048, 2176) and interp.needs(4800)[0] == 2112


@pytest.mark.parametrize('name,min_snr', [('longgap-lpc', 20), ('similarity', 20),
                                          ('longgap-interp', 12)])
def test_300ms_gap_at_44k_stereo_is_filled_and_bit_exact_outside(tmp_path, name, min_snr):
  rate = 44100
  clean, x, (a, b) = damaged_tones(tmp_path / 'in.wav', rate, 2, (0.8, 0.3))
  out = tmp_path / 'out.wav'
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(out), '--gap', '0.8:300',
                   '--method', name]) == 0
  y = soundfile.read(str(out), always_2d=True)[0]
  # The zone: the gap, 1 ms of resampling guard, similarity's 256-sample cross-fade (16 kHz).
  reach = int(np.ceil((16 + methods.get(name).zone) * rate / 16000)) + 1
  changed = np.flatnonzero(np.any(y != x, axis=1))
  assert changed.min() >= a - reach and changed.max() < b + reach
  for ch in range(2):
    assert snr(clean[a:b, ch], y[a:b, ch]) > min_snr
    assert snr(clean[a:b, ch], x[a:b, ch]) < 0  # the damage was real


def test_a_long_gap_takes_the_measured_default_and_short_gaps_keep_the_network(
    tmp_path, capsys, monkeypatch):
  assert methods.long_gap_default(200) == 'longgap-interp'  # results/longgap_default.md
  assert methods.long_gap_default(5000) == 'longgap-interp'
  _, x, _ = damaged_tones(tmp_path / 'in.wav', 16000, 1, (0.8, 0.2))
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o.wav'),
                   '--gap', '0.8:200']) == 0
  assert f'with {methods.long_gap_default(200)}' in capsys.readouterr().out
  chosen = []

  def refuse(name, **options):
    chosen.append(name)
    raise UserError('stop')

  monkeypatch.setattr(methods, 'get', refuse)
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'p.wav'),
                   '--gap', '0.8:64']) == 2
  assert chosen == ['network']


@pytest.mark.parametrize('args,message', [
    (['--gap', '0.8:300', '--method', 'lpc'],
     'longer than 64 ms, the longest lpc fills; for long gaps use --method longgap-lpc|similarity'),
    (['--gap', '0.5:300', '--method', 'network', '--model', 'missing.keras'], 'longer than 64 ms'),
    (['--gap', '0.02:300', '--method', 'longgap-lpc'], 'needs 62.5 ms of audio on both sides'),
    (['--gap', '0.2:12000', '--method', 'longgap-lpc'], 'longer than 10000 ms'),
    (['--gap', '0.3:300', '--method', 'similarity'], 'needs'),  # no room for a copy of the gap
    (['--gap', '0.8:300', '--model', 'small.keras'], '--model is for --method network'),
])
def test_long_gap_refusals_are_one_line_and_write_nothing(tmp_path, capsys, args, message):
  damaged_tones(tmp_path / 'in.wav', 16000, 1, (0.8, 0.2))
  out = tmp_path / 'o.wav'
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(out)] + args) == 2
  err = capsys.readouterr().err.strip()
  assert err.count('\n') == 0 and message in err
  assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


def test_short_gaps_with_a_long_gap_method_and_several_gaps(tmp_path):
  rate = 48000
  clean, x, _ = damaged_tones(tmp_path / 'in.wav', rate, 1, (1.2, 0.02), seconds=3.0)
  x[int(0.5 * rate):int(0.9 * rate)] = 0.0  # a 400 ms dropout as well
  soundfile.write(str(tmp_path / 'in.wav'), x, rate, subtype='PCM_24')
  x = soundfile.read(str(tmp_path / 'in.wav'), always_2d=True)[0]
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o.wav'),
                   '--gap', '1.2:20', '--gap', '0.5:400', '--method', 'longgap-lpc']) == 0
  y = soundfile.read(str(tmp_path / 'o.wav'), always_2d=True)[0]
  for lo, hi in ((0.5, 0.9), (1.2, 1.22)):
    a, b = int(lo * rate), int(hi * rate)
    assert snr(clean[a:b, 0], y[a:b, 0]) > 20
  keep = np.ones(len(x), bool)
  for lo, hi in ((0.5, 0.9), (1.2, 1.22)):
    keep[int(lo * rate) - 50:int(hi * rate) + 50] = False
  np.testing.assert_array_equal(y[keep], x[keep])


def test_the_adapter_hands_the_baseline_exactly_the_gap():
  """fill_gap and restore (evaluate's windows) mark the gap and nothing else as missing."""
  rng = np.random.default_rng(1)
  x16 = rng.standard_normal(40000)
  masked = methods.get('masked')
  out = masked.fill_gap(x16, 20000, 24800)
  np.testing.assert_array_equal(out, np.zeros(4800))
  windows = rng.standard_normal((3, 5120 + 512)).astype(np.float32)
  scores = evaluation.evaluate(windows, masked, 64)
  np.testing.assert_allclose(scores['snr_td'], 0.0, atol=1e-6)  # zeros in the gap: 0 dB
  restored = masked.restore(windows[:, 256:-256], config.signal_config(64)).restored
  np.testing.assert_array_equal(restored[:, :2048], windows[:, 256:256 + 2048])
  np.testing.assert_array_equal(restored[:, 2048:3072], 0)


def test_evaluate_scores_long_gap_methods_on_the_papers_windows(tmp_path, capsys):
  t = (np.arange(5120 + 512) - 256) / 16000
  rng = np.random.default_rng(2)
  windows = 0.5 * np.sin(2 * np.pi * rng.uniform(200, 2000, (4, 1)) * t + rng.uniform(0, 6, (4, 1)))
  assert np.all(evaluation.evaluate(windows, methods.get('longgap-lpc'), 64)['snr_td'] > 15)
  # Similarity needs a copy of the gap beside the gap: more than the windows' 128 ms.
  assert cli.main(['evaluate', str(tmp_path), '--method', 'similarity', '--gap-ms', '64']) == 2
  assert ("similarity needs 288 ms of context on each side of a 64 ms gap; evaluate cuts the "
          "paper's windows, 128 ms on each side") in capsys.readouterr().err
  # The folder's own files: one tone, long-gap LPC (the first segments only).
  t = np.arange(16000 * 2) / 16000
  soundfile.write(str(tmp_path / 'a.wav'), 0.4 * np.sin(2 * np.pi * 330 * t), 16000)
  assert cli.main(['evaluate', str(tmp_path), '--method', 'longgap-lpc', '--gap-ms', '48',
                   '--max-segments', '3']) == 0
  out = capsys.readouterr().out
  assert 'longgap-lpc, 48 ms gaps, 3 segments' in out
  assert float(out.split('SNR_TD ')[1].split(' dB')[0]) > 15


def test_detect_dropouts_stays_at_64_ms_with_a_long_gap_method(tmp_path, capsys):
  rate = 16000
  clean, x, _ = damaged_tones(tmp_path / 'in.wav', rate, 1, (0.5, 0.01), seconds=3.0)
  x[int(0.5 * rate):int(0.53 * rate)] = 0.0  # a 30 ms dropout: detected and filled
  x[int(1.5 * rate):int(1.8 * rate)] = 0.0  # 300 ms of silence: reported, left alone
  soundfile.write(str(tmp_path / 'in.wav'), x, rate, subtype='PCM_24')
  x = soundfile.read(str(tmp_path / 'in.wav'), always_2d=True)[0]
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o.wav'),
                   '--detect-dropouts', '--method', 'longgap-lpc']) == 0
  out = capsys.readouterr().out
  assert 'digital silence at 1.5s:300ms is longer than 64 ms; left as it is' in out
  assert 'filled 1 gap(s) with longgap-lpc: 0.5s:30ms' in out
  y = soundfile.read(str(tmp_path / 'o.wav'), always_2d=True)[0]
  a, b = int(0.5 * rate), int(0.53 * rate)
  assert snr(clean[a:b, 0], y[a:b, 0]) > 20
  keep = np.ones(len(x), bool)
  keep[a:b] = False
  np.testing.assert_array_equal(y[keep], x[keep])


def test_evaluation_takes_long_gap_methods_by_name():
  windows = np.random.default_rng(3).standard_normal((2, 5120 + 512))
  np.testing.assert_allclose(evaluation.evaluate(windows, 'masked', 48)['snr_td'], 0.0, atol=1e-6)


@pytest.mark.parametrize('name', ['longgap-lpc', 'similarity'])
def test_a_later_damaged_gap_is_not_read_when_filling_an_earlier_one(name):
  """Long-gap methods read beyond their context; the piece stops at the next (unfilled) gap."""
  rate = 44100
  t = np.arange(int(4.0 * rate)) / rate
  x = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1760 * t))[:, None]
  gaps = [inpaint.Gap(1.0, 0.2), inpaint.Gap(1.8, 0.2)]
  method = methods.get(name)
  context, reach = method.needs(3200)
  outs = []
  for seed in (0, 1):  # the same first gap, different damage in the second
    y = x.copy()
    for g in gaps:
      a, b = int(g.start * rate), int(np.ceil((g.start + g.duration) * rate))
      y[a:b] = np.random.default_rng(seed).uniform(-1, 1, (b - a, 1))
    outs.append(inpaint.inpaint_samples(y, rate, gaps, method.fill_gap, method.zone, context,
                                        method.max_ms, edge_guard=method.edge_guard, reach=reach))
  a, b = int(1.0 * rate), int(1.2 * rate)
  np.testing.assert_array_equal(outs[0][:int(1.6 * rate)], outs[1][:int(1.6 * rate)])
  assert snr(x[a:b, 0], outs[0][a:b, 0]) > 20
