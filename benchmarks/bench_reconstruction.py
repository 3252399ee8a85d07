"""LPC and phase retrieval speed per 64 ms gap, one core, beside librosa on the same segments.

  make bench BENCH=reconstruction      (or: python -m benchmarks.bench_reconstruction)

Ours: lpc.lpc_inpaint and phase.reconstruct_from_magnitudes on a batch.
librosa-based LPC: librosa.lpc(order=1000) per context + scipy lfiltic/lfilter
+ the squared-cosine mix, one gap at a time (and librosa.lpc on the whole batch
at once, its vectorised mode). Phase: librosa.griffinlim(n_iter=100) on each
segment's STFT (plain FGLA over the whole segment, no mask).
"""

from benchmarks.common import best_time, pin_one_core

pin_one_core()

import numpy as np  # noqa: E402
from scipy import signal as sps  # noqa: E402

from audio_context_encoder import config, dgt, lpc, metrics, phase  # noqa: E402

N_SEGMENTS = 48


def gspi_segments(n):
  from audio_context_encoder.audio_file import glockenspiel_16k
  x = glockenspiel_16k()
  starts = np.linspace(0, len(x) - 5120, n).astype(int)
  return np.stack([x[s:s + 5120] for s in starts])


def librosa_lpc_gap(librosa, segment, sig):
  def side(context):
    a = librosa.lpc(context, order=1000)
    zi = sps.lfiltic([1.0], a, context[::-1][:1000])
    return sps.lfilter([1.0], a, np.zeros(sig.Lg), zi=zi)[0]
  w = np.cos(np.linspace(0, np.pi / 2, sig.Lg)) ** 2
  return w * side(segment[:sig.Lc]) + w[::-1] * side(segment[sig.Lc + sig.Lg:][::-1])[::-1]


def librosa_lpc_batched(librosa, segments, sig):
  before = segments[:, :sig.Lc]
  after = segments[:, sig.Lc + sig.Lg:][:, ::-1]
  a = librosa.lpc(np.ascontiguousarray(np.concatenate([before, after])), order=1000, axis=-1)
  preds = []
  for ctx, coef in zip(np.concatenate([before, after]), a):
    zi = sps.lfiltic([1.0], coef, ctx[::-1][:1000])
    preds.append(sps.lfilter([1.0], coef, np.zeros(sig.Lg), zi=zi)[0])
  return preds


def main():
  import librosa
  sig = config.signal_config(64)
  x = gspi_segments(N_SEGMENTS)
  n = len(x)
  print(f'{n} segments of gspi (16 kHz), 64 ms gaps, one core')

  # ---- LPC ----
  t_ours = best_time(lambda: lpc.lpc_inpaint(x, sig), repeats=3)
  k = 8
  librosa_lpc_gap(librosa, x[0], sig)  # numba compile outside the timing
  t_lib = best_time(lambda: [librosa_lpc_gap(librosa, s, sig) for s in x[:k]], repeats=3)
  librosa_lpc_batched(librosa, x[:2], sig)
  t_lib_b = best_time(lambda: librosa_lpc_batched(librosa, x, sig), repeats=2)
  ours_ms, lib_ms, lib_b_ms = 1e3 * t_ours / n, 1e3 * t_lib / k, 1e3 * t_lib_b / n
  restored, _ = lpc.lpc_inpaint(x, sig)
  ref = np.stack([librosa_lpc_gap(librosa, s, sig) for s in x[:k]])
  err = np.abs(restored[:k, sig.Lc:sig.Lc + sig.Lg] - ref).max()
  print(f'LPC ms per gap: ours {ours_ms:.2f} (batch of {n}) | librosa.lpc + lfilter per gap {lib_ms:.2f} '
        f'| librosa.lpc batched + lfilter {lib_b_ms:.2f}')
  print(f'LPC speed-up: {lib_ms / ours_ms:.2f}x vs per-gap librosa, {lib_b_ms / ours_ms:.2f}x vs batched '
        f'librosa (target >= 2x); max |ours - librosa recipe| = {err:.1e}')

  # ---- Phase retrieval ----
  start, end = sig.gap_dgt_columns
  mags = np.abs(dgt.dgt(x, sig))[:, start:end]
  times = {}
  for method in ('pghi', 'fgla', 'pghi+fgla'):
    times[method] = best_time(lambda: phase.reconstruct_from_magnitudes(x, mags, sig, method), repeats=2)
  y = phase.reconstruct_from_magnitudes(x, mags, sig, 'pghi+fgla')
  snr = metrics.snr_ms(x, y, sig).mean()
  k = 8
  spec = [np.abs(librosa.stft(s, n_fft=512, hop_length=128, win_length=512, window='hann')) for s in x[:k]]
  t_gl = best_time(lambda: [librosa.griffinlim(S, n_iter=100, hop_length=128, win_length=512, n_fft=512,
                                               window='hann', momentum=0.99, random_state=0) for S in spec],
                   repeats=2)
  gl_ms = 1e3 * t_gl / k
  per = {m: 1e3 * t / n for m, t in times.items()}
  print(f'phase ms per gap: ours PGHI {per["pghi"]:.2f} | ours 100 FGLA {per["fgla"]:.2f} | '
        f'ours PGHI + 100 FGLA {per["pghi+fgla"]:.2f} (batch of {n}) | '
        f'librosa.griffinlim(n_iter=100) {gl_ms:.2f} (whole segment, per segment)')
  print(f'phase speed-up PGHI+FGLA vs librosa GLA: {gl_ms / per["pghi+fgla"]:.2f}x (target > 1); '
        f'SNR_MS with true magnitudes, PGHI+FGLA: {snr:.1f} dB')


if __name__ == '__main__':
  main()
