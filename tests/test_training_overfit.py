"""The whole training path learns: the `small` network overfits 32 fixed examples.

Uses two documented options, measured with `python -m experiments.overfit` (README):
  * loss='authors_code' (the authors' coded loss, docs/reference.md "Loss and training"): the
    faithful eq. (2) also learns but slowly (about 1.5 dB training SNR after 300 steps);
  * batch_norm_momentum=0.9: with the default 0.99 the inference-mode statistics lag far
    behind training in a run this short (training 37 dB, inference 0.2 dB at step 300).
"""

import pytest

from audio_context_encoder.context_encoder.overfit import overfit

pytestmark = pytest.mark.slow


def test_small_network_overfits_32_examples():
  history = overfit(loss='authors_code', batch_norm_momentum=0.9, steps=150, every=50, log=print)
  steps, train_snr, valid_snr = zip(*history)
  assert steps[-1] == 150
  assert valid_snr[-1] > 20.0  # inference mode, on the 32 training examples
  assert valid_snr[0] < valid_snr[-1]
