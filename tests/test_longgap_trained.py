"""A saved long-gap network loaded through longgap/trained.py gives what the model gives."""

import dataclasses
import json

import numpy as np
import pytest

from audio_context_encoder.longgap import config, models, trained
from tests.test_longgap_models import TINY_SPEC, TINY_WAVE


def save(tmp_path, kind, cfg):
  model = (models.build_wave_model(cfg) if kind == 'wave' else
           models.build_spectrogram_model(cfg, 1 + config.SC09.clip_samples // cfg.hop, cfg.n_fft // 2 + 1))
  path = tmp_path / f'{kind}.keras'
  model.save(path)
  path.with_suffix('.json').write_text(json.dumps(
      {'model': kind, 'preset': 'tiny', 'config': dataclasses.asdict(cfg), 'protocol': 'sc09'}))
  return path, model


@pytest.mark.parametrize('kind', ['wave', 'spec'])
def test_trained_network_fills_like_its_model_and_keeps_the_known_samples(tmp_path, rng, kind):
  cfg = TINY_WAVE if kind == 'wave' else TINY_SPEC
  path, model = save(tmp_path, kind, cfg)
  net = trained.TrainedNetwork(path, iterations=4)
  assert (net.name, net.cfg) == (f'longgap-{kind}', cfg)
  clips = rng.normal(size=(2, config.SC09.clip_samples)) * 0.1
  mask = config.SC09.test_mask_array(2)
  out = net.fill(clips, mask)
  np.testing.assert_array_equal(out[~mask], clips[~mask])
  want = (models.inpaint_waveform(model, clips, mask) if kind == 'wave' else
          models.inpaint_spectrogram(model, clips, mask, cfg, 'pghi+fgla', 4))
  np.testing.assert_allclose(out[mask], want[mask], rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match='16000 samples, got 100'):
    net.fill(clips[:, :100], mask[:, :100])


def test_trained_network_names_a_missing_or_foreign_record(tmp_path):
  path, _ = save(tmp_path, 'wave', TINY_WAVE)
  path.with_suffix('.json').write_text('{"model": "cnn"}')
  with pytest.raises(ValueError, match='wave.json: not a long-gap network record'):
    trained.TrainedNetwork(path)
  path.with_suffix('.json').unlink()
  with pytest.raises(ValueError, match='wave.json: missing'):
    trained.TrainedNetwork(path)
