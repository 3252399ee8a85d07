"""The Method interface and its registry: what a new method gets without new plumbing."""

import numpy as np
import pytest

from audio_context_encoder.cli import main as cli
from audio_context_encoder import config
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder.dsp import lpc
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.common.errors import UserError

SIG64, SIG48 = config.signal_config(64), config.signal_config(48)


class Zeros(methods.Method):
  """Fills the gap with zeros: a stand-in for a new method."""

  name = 'zeros'

  def __init__(self, config: config.Config = None):
    super().__init__(SIG64)

  def restore(self, segments, sig):
    out = np.array(segments, np.float64)
    out[:, sig.Lc:sig.Lc + sig.Lg] = 0.0
    return methods.Restored(out)


@pytest.fixture
def zeros_registered():
  methods.register('zeros', Zeros)
  yield
  methods.unregister('zeros')


def windows(n=3, margin=256, seed=0):
  rng = np.random.default_rng(seed)
  return rng.standard_normal((n, 5120 + 2 * margin)).astype(np.float32) * 0.1


def test_registry_names_and_unknown_method():
  assert methods.names() == ('network', 'interp', 'lpc', 'janssen', 'janssen-gapwise')
  assert methods.trained('network') and not methods.trained('lpc')
  with pytest.raises(UserError, match='unknown method .magic.; choose one of network, interp, lpc, '
                     'janssen, janssen-gapwise'):
    methods.get('magic')
  # Options a method does not take are ignored (one set of flags serves all); None = default.
  m = methods.get('lpc', model='ignored.keras', phase_method=None)
  assert isinstance(m, methods.LPC) and m.zone == 0 and m.context == 2048 and m.max_ms == 64


def test_a_registered_method_is_evaluated_and_offered_by_the_cli(zeros_registered):
  w = windows()
  out = evaluation.evaluate(w, 'zeros', 64)
  seg = w[:, 256:256 + 5120]
  expected = seg.astype(np.float64).copy()
  expected[:, 2048:3072] = 0
  np.testing.assert_array_equal(out['snr_td'], metrics.snr_td(seg, expected, SIG64))
  for command in (['inpaint', 'in.wav', 'out.wav'], ['evaluate', 'folder']):
    assert cli.build_parser().parse_args(command + ['--method', 'zeros']).method == 'zeros'


def test_extension_wraps_any_method(zeros_registered):
  """Table 3's wrapper around a method that fills only 64 ms: the 48 ms gap is extended to
  the 64 ms one inside the margins, and the scores are averaged over the three extensions."""
  zeros = methods.get('zeros')
  zeros.fills = lambda sig: sig == zeros.sig  # it fills only its own layout
  w = windows()
  wrappers = methods.extensions(zeros)
  assert [x.extension for x in wrappers] == ['forward', 'backward', 'centred']
  for x in wrappers:
    restored = x.fill(w, SIG48)
    first = 256 + 2176 - x.before  # the 64 ms gap in window coordinates
    changed = np.flatnonzero(np.any(restored != w[:, 256:256 + 5120], axis=0)) + 256
    assert changed.min() >= first and changed.max() < first + 1024
  out = evaluation.evaluate(w, zeros, 48)
  np.testing.assert_allclose(out['snr_ms'], np.mean(
      [out[f'snr_ms_{n}'] for n in ('forward', 'backward', 'centred')], axis=0))
  with pytest.raises(ValueError, match='needs margins of 256'):
    evaluation.evaluate(windows(margin=100), zeros, 48)


def test_lpc_fill_gap_is_the_exact_gap():
  x = np.sin(np.arange(20000) * 0.05) + 0.01 * np.random.default_rng(1).standard_normal(20000)
  m = methods.get('lpc')
  filled = m.fill_gap(x, 8000, 8500)
  gap, _ = lpc.extrapolate_gap(x[None, 8000 - 2048:8000], x[None, 8500:8500 + 2048], 500)
  np.testing.assert_array_equal(filled, gap[0])


def test_fill_gap_of_a_window_method_returns_gap_and_zones():
  x = windows(1, margin=5000)[0].astype(np.float64)
  m = methods.get('interp', phase_method='pghi')
  out = m.fill_gap(x, 7000, 7700)
  assert out.shape == (700 + 2 * 384,) and m.zone == 384
  start = methods.network_window(7000, 7700, len(x), SIG64)
  direct = m.fill(x[None, start:start + 5120].astype(np.float32), SIG64)[0]
  np.testing.assert_array_equal(out, direct[7000 - 384 - start:7700 + 384 - start])
