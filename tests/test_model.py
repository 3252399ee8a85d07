"""The network against docs/reference.md's table ("Network"); saving/loading; predict_gap."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from audio_context_encoder import config
from audio_context_encoder.context_encoder import features
from audio_context_encoder.context_encoder import inference
from audio_context_encoder.context_encoder import model as model_lib

# docs/reference.md, "Network": (layer, output shape) for the 64 ms magnitude network.
REFERENCE_TABLE = [
    ('context', (16, 257, 4)),
    ('conv1', (8, 129, 32)), ('conv2', (4, 43, 128)), ('conv3', (2, 15, 512)),
    ('conv4', (2, 8, 256)), ('conv5', (2, 8, 160)), ('conv6', (2, 8, 128)),
    ('encoding', (2048,)), ('fcl', (2048,)), ('fcl_reshape', (8, 8, 32)),
    ('deconv1', (16, 16, 128)), ('deconv2', (32, 32, 512)), ('deconv3', (32, 32, 257)),
    ('deconv3_reshape', (8, 257, 128)), ('deconv4', (16, 514, 11)),
    ('deconv4_reshape', (11, 257, 32)), ('deconv5', (11, 257, 1)),
]
KERNELS = {'conv1': (7, 89), 'conv2': (3, 17), 'conv3': (2, 11), 'conv4': (1, 9), 'conv5': (1, 5),
           'conv6': (2, 5), 'deconv1': (8, 8), 'deconv2': (5, 5), 'deconv3': (3, 3),
           'deconv4': (5, 67), 'deconv5': (11, 257)}


@pytest.fixture(scope='module')
def paper_model():
  return model_lib.build_model(config.get('paper'))


def count(variables):
  return sum(int(np.prod(v.shape)) for v in variables)


def test_layer_shapes_match_reference(paper_model):
  shapes = dict(model_lib.layer_shapes(paper_model))
  for name, shape in REFERENCE_TABLE:
    assert shapes[name] == shape, name
  for name, kernel in KERNELS.items():
    assert tuple(paper_model.get_layer(name).kernel.shape[:2]) == kernel, name
  assert paper_model.output.shape[1:] == (11, 257, 1)


def test_weight_counts(paper_model):
  kernels = model_lib.kernels(paper_model)
  assert count(kernels) == 11_160_928
  assert count(paper_model.trainable_variables) == 11_169_272
  assert not [v for v in paper_model.weights if 'bias' in v.path]
  share = count([paper_model.get_layer('fcl').kernel]) / count(kernels)
  assert round(100 * share, 1) == 37.6


def test_relu_then_batch_norm_except_last(paper_model):
  layers = paper_model.layers
  weighted = [i for i, layer in enumerate(layers) if hasattr(layer, 'kernel')]
  for i in weighted[:-1]:
    assert isinstance(layers[i + 1], keras.layers.ReLU), layers[i].name
    assert isinstance(layers[i + 2], keras.layers.BatchNormalization), layers[i].name
    assert getattr(layers[i], 'padding', 'same') == 'same'
  last = layers[weighted[-1]]
  assert last.name == 'deconv5' and last.activation is keras.activations.linear
  assert layers[weighted[-1] + 1:] == [paper_model.get_layer('gap')]


def test_reshapes_are_row_major(rng):
  cfg = config.get('small')
  m = model_lib.build_model(cfg)
  probe = keras.Model(m.input, [m.get_layer(n).output for n in
                                ('conv6_bn', 'encoding', 'deconv3_bn', 'deconv3_reshape',
                                 'deconv4_bn', 'deconv4_reshape')])
  x = rng.standard_normal((2, 16, 257, 4)).astype(np.float32)
  c6, enc, d3, d3r, d4, d4r = [t.numpy() for t in probe(x)]
  np.testing.assert_array_equal(enc, c6.reshape(2, -1, order='C'))
  np.testing.assert_array_equal(d3r, d3.reshape(2, 8, 257, 128, order='C'))
  np.testing.assert_array_equal(d4r, d4.reshape(2, 11, 257, 32, order='C'))


@pytest.mark.parametrize('preset, encoding', [('paper', 2048), ('small', 512)])
def test_complex_network(preset, encoding):
  cfg = config.get(preset, output='complex')
  m = model_lib.build_model(cfg)
  assert m.output.shape[1:] == (11, 257, 2)
  assert m.get_layer('encoding').output.shape[1:] == (encoding,)
  assert m.get_layer('deconv5').kernel.shape == cfg.network.decoder_kernels[-1] + (2, 32)


def test_48ms_layout_is_refused():
  with pytest.raises(ValueError, match='decoder geometry is fixed to the 64 ms gap'):
    model_lib.build_model(config.get('small', gap_ms=48))


def test_save_load_round_trip(tmp_path, rng):
  cfg = config.get('small', output='complex')
  m = model_lib.build_model(cfg)
  x = rng.standard_normal((3, 16, 257, 4)).astype(np.float32)
  m(x, training=True)  # moves the batch-norm statistics away from their initial values
  path = str(tmp_path / 'net.keras')
  model_lib.save_model(m, cfg, path)
  assert sorted(p.name for p in tmp_path.iterdir()) == ['net.keras']  # no temp file left
  loaded, loaded_cfg = model_lib.load_model(path)
  assert loaded_cfg == cfg
  np.testing.assert_array_equal(loaded(x, training=False).numpy(), m(x, training=False).numpy())


def test_load_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='no such model file'):
    model_lib.load_model(str(tmp_path / 'missing.keras'))
  bad = tmp_path / 'bad.keras'
  bad.write_text('not a zip')
  with pytest.raises(ValueError, match='bad.keras: not a model file'):
    model_lib.load_model(str(bad))
  with pytest.raises(ValueError, match='must end in .keras'):
    model_lib.save_model(None, config.get('small'), str(tmp_path / 'net.h5'))


@pytest.mark.parametrize('output', ['magnitude', 'complex'])
def test_predict_gap(output, gspi_segments):
  cfg = config.get('small', output=output)
  m = model_lib.build_model(cfg)
  got = inference.predict_gap(m, cfg, gspi_segments, batch_size=3)
  direct = m(features.context_features(gspi_segments, cfg.signal), training=False).numpy()
  assert got.shape == (8, 11, 257)
  if output == 'complex':
    assert got.dtype == np.complex64
    np.testing.assert_allclose(got.real, direct[..., 0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.imag, direct[..., 1], rtol=1e-5, atol=1e-5)
  else:
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, direct[..., 0], rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match='5120 samples long'):
    inference.predict_gap(m, cfg, gspi_segments[:, :4000])


def test_mixed_precision_output_is_float32():
  keras.mixed_precision.set_global_policy('mixed_bfloat16')
  try:
    m = model_lib.build_model(config.get('small'))
    assert m.get_layer('deconv5').compute_dtype == 'bfloat16'
    assert m(tf.zeros((1, 16, 257, 4))).dtype == tf.float32
  finally:
    keras.mixed_precision.set_global_policy('float32')
