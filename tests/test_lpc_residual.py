"""The residual deviation 'lpc' (issue 11): the network starts at LPC's gap magnitudes and learns
a blend with the context frames and a correction on top.

The reference LPC magnitudes are computed here through the DGT (dgt.magnitude, checked against
ltfatpy in test_dgt.py) of lpc.lpc_inpaint's output, not through network_inputs' tf.signal path.
"""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import losses
from audio_context_encoder.dsp import lpc
from audio_context_encoder import methods
from audio_context_encoder.context_encoder import network_inputs
from audio_context_encoder.context_encoder import model as model_lib
from audio_context_encoder.context_encoder import reader
from audio_context_encoder.context_encoder import training
from tests.test_data_build import build, write_tracks
from tests.test_training_helpers import small_config


def lpc_config(cfg=None, **network):
  cfg = cfg or config.get('small')
  return cfg.replace(network=dataclasses.replace(cfg.network, residual='lpc', **network))


def reference_lpc_magnitudes(segments, sig):
  filled, _ = lpc.lpc_inpaint(np.asarray(segments, np.float64), sig)
  start, end = sig.gap_dgt_columns
  return dgt.magnitude(filled, sig, np.arange(start, end))


def test_step_zero_is_lpc_and_survives_saving(tmp_path, gspi_segments):
  cfg = lpc_config(context_magnitudes=True)
  model = model_lib.build_model(cfg)
  want = reference_lpc_magnitudes(gspi_segments, cfg.signal)
  inputs = network_inputs.network_inputs(gspi_segments, cfg)
  np.testing.assert_allclose(inputs[1], want, rtol=1e-4, atol=1e-5 * want.max())
  # Blend 0, LPC weights 1, correction kernel 0: the output is the LPC input, bit for bit.
  np.testing.assert_array_equal(model(inputs, training=False).numpy()[..., 0], inputs[1].numpy())
  path = str(tmp_path / 'lpc.keras')
  model_lib.save_model(model, cfg, path)
  method = methods.Network(model=path)  # the inference path of `evaluate` and `inpaint`
  assert method.cfg.network.residual == 'lpc'
  restored = method.restore(gspi_segments, cfg.signal)
  np.testing.assert_array_equal(restored.magnitudes, inputs[1].numpy())


def test_inputs_never_read_the_gap(gspi_segments):
  cfg = lpc_config()
  damaged = gspi_segments.copy()
  damaged[:, cfg.signal.Lc:cfg.signal.Lc + cfg.signal.Lg] = 0.3
  for a, b in zip(network_inputs.network_inputs(damaged, cfg),
                  network_inputs.network_inputs(gspi_segments, cfg)):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_lpc_base_trains_and_stays_out_of_the_l2_term(gspi_segments):
  cfg = lpc_config()
  model = model_lib.build_model(cfg)
  base = model.get_layer('lpc_base')
  np.testing.assert_array_equal(base.lpc.numpy(), 1)
  np.testing.assert_array_equal(base.blend.numpy(), 0)
  l2 = losses.l2_variables(model, cfg)
  assert all(v is not base.lpc and v is not base.blend for v in l2)
  inputs = network_inputs.network_inputs(gspi_segments, cfg)
  target = features.gap_magnitude(gspi_segments, cfg.signal)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum((model(inputs, training=True)[..., 0] - target) ** 2)
  for grad in tape.gradient(loss, [base.lpc, base.blend]):
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_reader_gives_the_pair(tmp_path):
  write_tracks(tmp_path / 'in', 4, seconds=1.0)
  build(tmp_path / 'in', tmp_path / 'out', layout='full')  # stored features: read from audio
  cfg = lpc_config()
  (context, lpc_gap), target = next(iter(reader.training_dataset(
      tmp_path / 'out', 'train', cfg, 8, shuffle=False, repeat=False)))
  assert context.shape == (8, 16, 257, 4) and target.shape == (8, 11, 257, 1)
  segments = next(iter(reader.evaluation_dataset(tmp_path / 'out', 'train', 64, 8)))['segment']
  want = reference_lpc_magnitudes(segments.numpy(), cfg.signal)
  np.testing.assert_allclose(lpc_gap, want, rtol=1e-4, atol=1e-5 * want.max())


@pytest.mark.slow  # trains in-process
def test_training_and_validation_on_the_pair(tmp_path, gspi_segments):
  cfg = lpc_config(small_config(batch_size=4, validation_interval=2, steps=2))
  inputs = tuple(t.numpy() for t in network_inputs.network_inputs(gspi_segments, cfg))
  target = features.gap_magnitude(gspi_segments, cfg.signal).numpy()[..., None]
  data = tf.data.Dataset.from_tensor_slices((inputs, target))
  trainer = training.Trainer(cfg, str(tmp_path), training.RunOptions(
      checkpoint_every=2, log_every=1, progress=False, image_examples=2))
  trainer.fit(lambda seed: data.repeat().batch(4, drop_remainder=True), lambda: data.batch(4))
  assert os.path.isfile(tmp_path / 'best.keras')
  moved = trainer.model.get_layer('lpc_base').lpc.numpy()
  assert np.abs(moved - 1).max() > 0  # the LPC weights learn
