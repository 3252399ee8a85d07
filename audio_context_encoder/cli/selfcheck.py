"""A quick check that the installation works: features vs ltfatpy and the synthesis round trip."""

import numpy as np

from audio_context_encoder.audio import audio_file
from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.dsp import phase


def run() -> bool:
  # Imported here: ltfatpy and TensorFlow (features) take seconds, and the other commands of
  # the CLI (LPC inpainting) need neither.
  from ltfatpy import dgtreal, firwin

  from audio_context_encoder.context_encoder import features

  x16 = audio_file.glockenspiel_16k()
  ok = True
  for gap_ms in (64, 48):
    sig = config.signal_config(gap_ms)
    seg = x16[8000:8000 + sig.L].astype(np.float32)
    target = features.gap_magnitude(seg, sig).numpy()
    window, _ = firwin('hann', sig.M, norm='peak')
    c, _, _ = dgtreal(seg.astype(np.float64), window, sig.a, sig.M, sig.L, 'timeinv')
    c0, c1 = sig.gap_dgt_columns
    ref = np.abs(c).T[c0:c1]
    err_ltfat = np.linalg.norm(target - ref) / np.linalg.norm(ref)
    gap = dgt.from_stft_frames(features.gap_stft(seg[None], sig).numpy(), sig)
    restored = phase.synthesize_gap(seg[None], gap, sig)[0]
    err_rt = np.linalg.norm(restored - seg) / np.linalg.norm(seg)
    passed = err_ltfat < 1e-4 and err_rt < 1e-5
    ok &= passed
    print(f'{gap_ms} ms: context {tuple(features.context_features(seg, sig).shape)}, '
          f'target {target.shape}; vs ltfatpy dgtreal {err_ltfat:.1e}; '
          f'round trip {err_rt:.1e}: {"ok" if passed else "FAILED"}')
  return ok
