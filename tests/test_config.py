"""The configuration: paper values, presets, serialisation."""

import json

import pytest

from audio_context_encoder import config


def test_paper_values():
  cfg = config.get('paper')
  assert (cfg.signal.sample_rate, cfg.signal.L, cfg.signal.Lg, cfg.signal.Lc) == (16000, 5120, 1024, 2048)
  assert (cfg.signal.M, cfg.signal.a, cfg.signal.bins) == (512, 128, 257)
  assert (cfg.train.c, cfg.train.lambda_, cfg.train.batch_size) == (5.0, 0.01, 256)
  assert (cfg.train.learning_rate, cfg.train.learning_rate_final) == (1e-3, 1e-4)
  assert cfg.train.validation_interval == 2000
  assert cfg.reconstruction.lpc_order == 1000 and cfg.reconstruction.fgla_iterations == 100
  gap48 = config.get('paper', gap_ms=48).signal
  assert (gap48.Lg, gap48.Lc) == (768, 2176)


def test_small_keeps_signal_and_loss():
  paper, small = config.get('paper'), config.get('small')
  assert small.signal == paper.signal
  assert (small.train.c, small.train.lambda_, small.train.loss) == (5.0, 0.01, 'paper')
  assert small.network.decoder_channels[2:] == paper.network.decoder_channels[2:]


def test_round_trip_through_json():
  for preset in config.PRESETS:
    cfg = config.get(preset, gap_ms=48, output='complex')
    assert config.Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize('kwargs, message', [
    ({'preset': 'huge'}, 'unknown preset'),
    ({'gap_ms': 50}, 'gap_ms must be one of'),
    ({'output': 'phase'}, 'output must be'),
])
def test_bad_choices(kwargs, message):
  with pytest.raises(ValueError, match=message):
    config.get(**kwargs)


def test_inconsistent_signal_rejected():
  with pytest.raises(ValueError, match='2 \\* Lc \\+ Lg'):
    config.SignalConfig(Lg=1000)
