"""The ways to fill a gap, behind one interface, and the registry that names them.

A `Method` (base.py) fills the gap of a batch of windows: `fill(windows, sig)` takes windows
[B, L + 2 margin] (the segment of the layout `sig`, gap [Lc, Lc + Lg), plus `margin` samples
on each side that only extended methods read) and returns the restored segments [B, L].
It declares what it may change (`zone`: samples beyond each side of the gap, the rest comes
back bit-exact) and what it needs (`context`: samples on each side of the gap).
`fill_gap(x16, first, end)` fills one gap of a long 16 kHz signal (the `inpaint` command):
the samples of [first - zone, end + zone).

The paper's methods and Janssen's are in short_gap.py, the long-gap ones in long_gap.py; each
registers itself where it is defined (@register). Tables, `evaluate` and `inpaint` take a
method by name: `get(name, **options)`. Adding one: docs/extending.md.
"""

from audio_context_encoder.methods.base import (Method, Restored, all_names, check_model, get,
                                                long_gap_names, names, network_window, register,
                                                segments_of, trained, unregister)
from audio_context_encoder.methods.short_gap import (EXTENSION_NAMES, MODELS_DIR, SHIPPED_MODELS, LPC,
                                                     Extended, Interpolation, Janssen,
                                                     JanssenGapwise, Magnitudes, Network,
                                                     check_keras_file, extensions,
                                                     interpolation_predictor, load_network,
                                                     network_predictor)
from audio_context_encoder.methods.long_gap import (LONG_DEFAULTS, LONG_MAX_MS, LONGGAP_MODELS, SEARCH, LongGap,
                                                    LongGapNetwork, LongGapSpec, LongGapWave,
                                                    LongInterpolation, deep_prior, long_gap_default, long_lpc,
                                                    longgap_model_file, masked, similarity)

__all__ = [
    'Method',
    'Restored',
    'all_names',
    'check_model',
    'get',
    'long_gap_names',
    'names',
    'network_window',
    'register',
    'segments_of',
    'trained',
    'unregister',
    'EXTENSION_NAMES',
    'MODELS_DIR',
    'SHIPPED_MODELS',
    'LPC',
    'Extended',
    'Interpolation',
    'Janssen',
    'JanssenGapwise',
    'Magnitudes',
    'Network',
    'check_keras_file',
    'extensions',
    'interpolation_predictor',
    'load_network',
    'network_predictor',
    'LONG_DEFAULTS',
    'LONG_MAX_MS',
    'LONGGAP_MODELS',
    'SEARCH',
    'LongGap',
    'LongGapNetwork',
    'LongGapSpec',
    'LongGapWave',
    'LongInterpolation',
    'deep_prior',
    'long_gap_default',
    'long_lpc',
    'longgap_model_file',
    'masked',
    'similarity',
]
