"""Shared fixtures: real audio from ltfatpy, seeded randomness."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np
import pytest


@pytest.fixture(scope='session')
def gspi_16k():
  """ltfatpy's glockenspiel recording (44.1 kHz), resampled to 16 kHz, float64."""
  from audio_context_encoder.audio.audio_file import glockenspiel_16k
  return glockenspiel_16k()


@pytest.fixture(scope='session')
def gspi_segments(gspi_16k):
  """Eight 5120-sample segments of real music, every 3200 samples, float32."""
  starts = 2000 + 3200 * np.arange(8)
  return np.stack([gspi_16k[s:s + 5120] for s in starts]).astype(np.float32)


@pytest.fixture
def rng():
  return np.random.default_rng(1234)


@pytest.fixture(params=['compiled', 'numpy'])
def kernels(request):
  """Runs a test with the numba kernels (compute.compiled; without numba both runs are numpy)
  and with the batched-numpy fallback."""
  from audio_context_encoder.common import compute
  previous = compute.use_compiled(request.param == 'compiled')
  yield request.param
  compute.use_compiled(previous)
