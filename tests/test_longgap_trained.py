"""A saved long-gap network loaded through longgap/trained.py gives what the model gives."""

import dataclasses
import json

import numpy as np
import pytest

from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import models
from audio_context_encoder.longgap import trained
from tests.test_longgap_models import TINY_SPEC, TINY_WAVE


def save(tmp_path, kind, cfg, protocol='sc09'):
  """A tiny network saved as tmp_path/KIND.keras with its JSON (what trained.py reads)."""
  clip = config.get(protocol).clip_samples
  model = (models.build_wave_model(cfg) if kind == 'wave' else
           models.build_spectrogram_model(cfg, 1 + clip // cfg.hop, cfg.n_fft // 2 + 1))
  path = tmp_path / f'{kind}.keras'
  model.save(path)
  path.with_suffix('.json').write_text(json.dumps(
      {'model': kind, 'preset': 'tiny', 'config': dataclasses.asdict(cfg), 'protocol': protocol}))
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


def test_fill_gap_runs_on_a_clip_around_the_gap_wherever_it_lies(tmp_path, rng):
  path, model = save(tmp_path, 'wave', TINY_WAVE)
  net = trained.TrainedNetwork(path)
  x = rng.normal(size=40000) * 0.1
  clip = config.SC09.clip_samples
  cases = [(20000, 23200, 20000 - 6400),  # centred: 0.4 s on each side, as the test mask
           (1000, 4200, 0),  # near the start: the window starts there
           (39000, 39800, 40000 - clip)]  # near the end
  for first, end, start in cases:
    mask = np.zeros(clip, bool)
    mask[first - start:end - start] = True
    want = models.inpaint_waveform(model, x[None, start:start + clip], mask[None])[0]
    np.testing.assert_allclose(net.fill_gap(x, first, end, 16000), want[mask], rtol=1e-6)
  short = net.fill_gap(x[:9000], 4000, 5600, 16000)  # zeros pad the clip (as the datasets do)
  assert short.shape == (1600,) and np.all(np.isfinite(short))


def test_fill_gap_at_another_rate_never_reads_the_damaged_samples(tmp_path, rng):
  """An ESC-50 network (22.05 kHz) on 16 kHz audio: the window is resampled, and the mask
  covers the 1 ms on each side where the filter smears the gap into the context."""
  path, _ = save(tmp_path, 'wave', TINY_WAVE, protocol='esc50')
  net = trained.TrainedNetwork(path)
  x = rng.normal(size=100000) * 0.1
  outs = []
  for fill in (0.0, 5.0):
    y = x.copy()
    y[50000:56400] = fill
    outs.append(net.fill_gap(y, 50000, 56400, 16000))
  assert outs[0].shape == (6400,) and np.all(np.isfinite(outs[0]))
  np.testing.assert_array_equal(outs[0], outs[1])
