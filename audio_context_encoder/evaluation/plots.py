"""Spectrogram figures people look at (PNG, written atomically)."""

import numpy as np

from audio_context_encoder.common import atomic
from audio_context_encoder.dsp import spectrogram


def spectrogram_db(x, rate: int, nfft: int = None, hop: int = None):
  """(times s [T], frequencies Hz [F], magnitude dB [F, T]) of x: Hann window of nfft samples
  (default ~32 ms), hop nfft / 8 by default, frames centred on k hop (spectrogram.stft), scaled
  by the window's sum (a full-scale sine peaks near 0 dB). The one spectrogram of every figure."""
  nfft = nfft or int(2 ** np.ceil(np.log2(0.032 * rate)))
  hop = hop or nfft // 8
  s = spectrogram.stft(np.asarray(x, np.float64), nfft, hop).T / spectrogram.window(nfft).sum()
  t = np.arange(s.shape[1]) * hop / rate
  f = np.arange(s.shape[0]) * rate / nfft
  return t, f, 20 * np.log10(np.abs(s) + 1e-7)


def save_spectrograms(panels, rate: int, path: str, title: str, marks=(), columns: int = 1,
                      xlim=None):
  """One magnitude spectrogram (dB) per (name, signal) panel, stacked; dashed lines at `marks` (s);
  xlim: (start, end) s shown (a zoom on the whole signal's spectrogram, no edge effects)."""
  import matplotlib  # slow to import and only for figures: loaded when one is drawn
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt

  rows = -(-len(panels) // columns)
  fig, axes = plt.subplots(rows, columns, figsize=(10 * columns / max(columns, 1), 2.2 * rows + 0.6),
                           sharex=True, sharey=True, squeeze=False)
  vmax = None
  for ax, (name, x) in zip(axes.ravel(), panels):
    t, f, db = spectrogram_db(x, rate)
    vmax = db.max() if vmax is None else vmax
    ax.pcolormesh(t, f / 1000, db, vmin=vmax - 80, vmax=vmax, cmap='magma', shading='auto')
    for m in marks:
      ax.axvline(m, color='w', lw=0.6, ls='--')
    ax.set_title(name, fontsize=9)
    ax.set_ylabel('kHz')
  if xlim is not None:
    axes[0, 0].set_xlim(*xlim)  # shared by every panel
  for ax in axes.ravel()[len(panels):]:  # a grid's unused places
    ax.set_visible(False)
  for ax in axes[-1]:
    ax.set_xlabel('time (s)')
  fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  with atomic.replacing(path) as tmp:
    fig.savefig(tmp, dpi=100)
  plt.close(fig)
  return path
