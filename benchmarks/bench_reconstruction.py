"""Phase retrieval and LPC per 64 ms gap: the pre-issue-12 code beside the batched backends, one run.

  make bench BENCH=reconstruction      (or: python -m benchmarks.bench_reconstruction)

Same gspi segments and true gap magnitudes for every side, measured in this one process:
  * old: audio_context_encoder.dsp.reference (the code before issue 12), one process;
  * new numpy: phase.reconstruct_from_magnitudes / lpc.lpc_inpaint with the numba kernels
    (compute.compiled), rows over 1 and over all usable cores' worker processes
    (compute.map_rows); and the same in one process without numba (its batched-numpy path);
  * new tf: the TF graphs (phase_tf FGLA, lpc_tf Burg), here on whatever TF sees.
Accuracy: the new outputs' DGT gap columns against the old ones (max |diff| / max |old|
per segment, worst segment), and LPC against the librosa.lpc + lfilter recipe.
Times are wall ms per gap, best of REPEATS, and this process's CPU ms per gap (steadier
on a shared machine); the ratios of one run are what counts. Ends with the projected time
of `make tables` on the full FMA and NSynth test splits from these rates (network
inference measured apart with the paper-size model, random weights).
"""

import os
import time

import numpy as np
from scipy import signal as sps

from audio_context_encoder.common import compute
from audio_context_encoder import config
from audio_context_encoder.dsp import dgt
from audio_context_encoder.dsp import lpc
from audio_context_encoder.dsp import phase
from audio_context_encoder.dsp import reference
from audio_context_encoder.audio.audio_file import glockenspiel_16k

N_NEW = 256  # segments per batched call (what make tables feeds: --batch_size)
N_OLD = 32  # the old code is slow; its per-gap rate does not depend on the batch size
REPEATS = 2
# Test segments in the paper's datasets (issue 12): FMA small test split, NSynth test split.
SPLITS = {'FMA': 700_000, 'NSynth': 300_000}


def gspi_segments(n):
  x = glockenspiel_16k()
  starts = np.linspace(0, len(x) - 5120, n).astype(int)
  return np.stack([x[s:s + 5120] for s in starts])


CPU = {}  # label -> this process's CPU ms per gap (in-process runs: steadier than wall on a shared machine)


def per_gap_ms(fn, n, repeats=REPEATS, label=None, compiled=True):
  """Best wall time of fn() over `repeats` runs (after one warm-up: compiles the kernels),
  in ms per gap; `compiled` False runs it without the numba kernels."""
  previous = compute.use_compiled(compiled)
  try:
    return _per_gap_ms(fn, n, repeats, label)
  finally:
    compute.use_compiled(previous)


def _per_gap_ms(fn, n, repeats, label):
  fn()
  best, best_cpu = float('inf'), float('inf')
  for _ in range(repeats):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    best = min(best, time.perf_counter() - t0)
    best_cpu = min(best_cpu, time.process_time() - c0)
  if label:
    CPU[label] = 1e3 * best_cpu / n
  return 1e3 * best / n


def old_reconstruct(x, mags, sig, rcfg):
  """The pre-issue-12 pipeline: reference.pghi then reference.fgla, then the same synthesis."""
  known = phase.known_columns_mask(sig)
  start, end = sig.gap_dgt_columns
  work = x.astype(np.float64)
  work[:, sig.Lc:sig.Lc + sig.Lg] = 0.0
  c = dgt.dgt(work, sig)
  c[:, start:end] = mags
  c = reference.pghi(c, known, sig, gamma=rcfg.pghi_gamma_factor * sig.M ** 2)
  c = reference.fgla(c, known, sig, rcfg.fgla_iterations, rcfg.fgla_alpha)
  return phase._synthesize(x, c, sig)


def old_lpc(x, sig):
  before, after = x[:, :sig.Lc], x[:, sig.Lc + sig.Lg:][:, ::-1]
  pred = reference.burg_extrapolate(np.concatenate([before, after]), 1000, sig.Lg)
  w = lpc.mix_window(sig.Lg)
  return w * pred[:len(x)] + w[::-1] * pred[len(x):, ::-1]


def librosa_lpc_gap(librosa, segment, sig):
  def side(context):
    a = librosa.lpc(context, order=1000)
    zi = sps.lfiltic([1.0], a, context[::-1][:1000])
    return sps.lfilter([1.0], a, np.zeros(sig.Lg), zi=zi)[0]
  w = lpc.mix_window(sig.Lg)
  return w * side(segment[:sig.Lc]) + w[::-1] * side(segment[sig.Lc + sig.Lg:][::-1])[::-1]


def gap_column_error(new, old, sig):
  start, end = sig.gap_dgt_columns
  cols = np.arange(start, end)
  c_new, c_old = dgt.dgt(new, sig, cols), dgt.dgt(old, sig, cols)
  scale = np.abs(c_old).max(axis=(1, 2))
  ok = scale > 0
  return float((np.abs(c_new - c_old).max(axis=(1, 2))[ok] / scale[ok]).max())


def network_ms(n=64):
  """Paper-size magnitude network, random weights, inference on n segments (ms per gap)."""
  # TensorFlow last: once imported (with a GPU) compute.resolve('auto') would pick the tf
  # backends, and the numpy ones are measured first.
  import tensorflow as tf
  from audio_context_encoder.context_encoder import inference
  from audio_context_encoder.context_encoder import model as model_lib
  cfg = config.paper()
  net = model_lib.build_model(cfg)
  x = np.random.default_rng(0).standard_normal((n, cfg.signal.L)).astype(np.float32) * 0.1
  del tf
  return per_gap_ms(lambda: inference.predict_gap(net, cfg, x, 64), n, repeats=1)


def main():
  import librosa  # a test dependency, slow to import: only this benchmark's accuracy check
  sig = config.signal_config(64)
  rcfg = config.ReconstructionConfig()
  cores = compute.cores()
  x = gspi_segments(N_NEW)
  xo = x[:N_OLD]
  start, end = sig.gap_dgt_columns
  mags = np.abs(dgt.dgt(x, sig))[:, start:end]
  print(f'64 ms gaps of gspi (16 kHz); batched calls of {N_NEW} segments, the old code on {N_OLD}; '
        f'{cores} usable core(s); best of {REPEATS}; wall ms per gap')

  # ---- Phase retrieval: masked PGHI + 100 masked FGLA ----
  def rec(segments, m, backend='numpy', workers=1):
    return phase.reconstruct_from_magnitudes(segments, m, sig, rcfg=rcfg, backend=backend, workers=workers)

  t_old = per_gap_ms(lambda: old_reconstruct(xo, mags[:N_OLD], sig, rcfg), N_OLD, label='phase old')
  t_new1 = per_gap_ms(lambda: rec(x, mags), N_NEW, label='phase new')
  t_new = per_gap_ms(lambda: rec(x, mags, workers=cores), N_NEW)
  t_plain = per_gap_ms(lambda: rec(x, mags), N_NEW, label='phase new without numba', compiled=False)
  t_tf = per_gap_ms(lambda: rec(x[:64], mags[:64], 'tf'), 64, repeats=1)
  y_old = old_reconstruct(xo, mags[:N_OLD], sig, rcfg)
  y_new = rec(xo, mags[:N_OLD])
  previous = compute.use_compiled(False)
  y_plain = rec(xo, mags[:N_OLD])
  compute.use_compiled(previous)
  y_tf = rec(xo, mags[:N_OLD], 'tf')
  print(f'PGHI + 100 FGLA: old {t_old:.2f} | new numpy 1 process {t_new1:.2f} | new numpy {cores} processes '
        f'{t_new:.2f} | new without numba 1 process {t_plain:.2f} | new tf (this machine) {t_tf:.2f} '
        f'-> {t_old / t_new:.1f}x (target <= 5 ms, 10x)')
  print(f'  gap columns vs old: numpy {gap_column_error(y_new, y_old, sig):.1e}, without numba '
        f'{gap_column_error(y_plain, y_old, sig):.1e}, tf {gap_column_error(y_tf, y_old, sig):.1e} '
        f'relative (target 1e-6)')

  # ---- LPC, Burg order 1000 ----
  l_old = per_gap_ms(lambda: old_lpc(xo, sig), N_OLD, label='LPC old')
  l_new1 = per_gap_ms(lambda: lpc.lpc_inpaint(x, sig, backend='numpy', workers=1), N_NEW, label='LPC new')
  l_new = per_gap_ms(lambda: lpc.lpc_inpaint(x, sig, backend='numpy', workers=cores), N_NEW)
  l_plain = per_gap_ms(lambda: lpc.lpc_inpaint(x, sig, backend='numpy', workers=1), N_NEW,
                       label='LPC new without numba', compiled=False)
  l_tf = per_gap_ms(lambda: lpc.lpc_inpaint(x[:64], sig, backend='tf'), 64, repeats=1)
  sample = x[::N_NEW // 16]  # 16 gaps spread over the recording
  ref = np.stack([librosa_lpc_gap(librosa, s, sig) for s in sample])
  gap = slice(sig.Lc, sig.Lc + sig.Lg)

  def lpc_error(fn):
    out = fn()[:, gap] if callable(fn) else fn
    return np.abs(out - ref).max() / np.abs(ref).max()

  err_old = lpc_error(old_lpc(sample, sig))
  err_np = lpc_error(lambda: lpc.lpc_inpaint(sample, sig, backend='numpy')[0])
  previous = compute.use_compiled(False)
  err_plain = lpc_error(lambda: lpc.lpc_inpaint(sample, sig, backend='numpy')[0])
  compute.use_compiled(previous)
  err_tf = lpc_error(lambda: lpc.lpc_inpaint(sample, sig, backend='tf')[0])
  print(f'LPC Burg-1000: old {l_old:.2f} | new numpy 1 process {l_new1:.2f} | new numpy {cores} processes '
        f'{l_new:.2f} | new without numba 1 process {l_plain:.2f} | new tf (this machine) {l_tf:.2f} '
        f'-> {l_old / l_new:.1f}x (target <= 3 ms, 3x)')
  print(f'  gap vs librosa.lpc + lfilter recipe ({len(sample)} gaps): old {err_old:.1e}, numpy {err_np:.1e}, '
        f'without numba {err_plain:.1e}, tf {err_tf:.1e} relative to the peak (target 1e-6)')

  print('CPU ms per gap of the in-process runs: '
        + ', '.join(f'{k} {v:.2f}' for k, v in CPU.items())
        + f' -> phase {CPU["phase old"] / CPU["phase new"]:.1f}x, LPC {CPU["LPC old"] / CPU["LPC new"]:.1f}x')
  print(f'load average during the run: {os.getloadavg()[0]:.1f} on {cores} core(s)')

  # ---- Projection of `make tables` (Tables 2-3) on the full test splits ----
  net = network_ms()
  phase_ms, lpc_ms = t_new, l_new  # what make tables runs: one worker process per core

  def hours(n, net_ms, phase_ms, lpc_ms):
    # Table 2 (64 ms): network + phase retrieval, LPC; Table 3 (48 ms): three extensions
    # through network + phase retrieval, LPC once (evaluation.evaluate).
    return n * (4 * (net_ms + phase_ms) + 2 * lpc_ms) / 3.6e6

  print(f'network inference (paper size, random weights, this CPU): {net:.2f} ms per gap')
  for name, n in SPLITS.items():
    print(f'projected make tables on the {name} test split ({n:,} segments), Tables 2 + 3, from these rates: '
          f'{hours(n, net, phase_ms, lpc_ms):.1f} h with the network on this CPU '
          f'(old code {hours(n, net, t_old, l_old):.1f} h); phase retrieval + LPC alone '
          f'{hours(n, 0, phase_ms, lpc_ms):.1f} h (old code {hours(n, 0, t_old, l_old):.1f} h); '
          f'from the CPU times, phase retrieval + LPC on {cores} idle core(s): '
          f'{hours(n, 0, CPU["phase new"], CPU["LPC new"]) / cores:.1f} h '
          f'(old code {hours(n, 0, CPU["phase old"], CPU["LPC old"]) / cores:.1f} h)')


if __name__ == '__main__':
  main()
