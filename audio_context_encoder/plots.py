"""Spectrogram figures people look at (PNG, written atomically)."""


import numpy as np


def save_spectrograms(panels, rate: int, path: str, title: str, marks=(), columns: int = 1):
  """One magnitude spectrogram (dB) per (name, signal) panel, stacked; dashed lines at `marks` (s)."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  from scipy import signal as sps

  rows = -(-len(panels) // columns)
  fig, axes = plt.subplots(rows, columns, figsize=(10 * columns / max(columns, 1), 2.2 * rows + 0.6),
                           sharex=True, sharey=True, squeeze=False)
  vmax = None
  nfft = int(2 ** np.ceil(np.log2(0.032 * rate)))
  for ax, (name, x) in zip(axes.ravel(), panels):
    f, t, s = sps.stft(np.asarray(x, np.float64), rate, window='hann', nperseg=nfft,
                       noverlap=nfft * 7 // 8)
    db = 20 * np.log10(np.abs(s) + 1e-7)
    vmax = db.max() if vmax is None else vmax
    ax.pcolormesh(t, f / 1000, db, vmin=vmax - 80, vmax=vmax, cmap='magma', shading='auto')
    for m in marks:
      ax.axvline(m, color='w', lw=0.6, ls='--')
    ax.set_title(name, fontsize=9)
    ax.set_ylabel('kHz')
  for ax in axes[-1]:
    ax.set_xlabel('time (s)')
  fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  from audio_context_encoder import atomic
  with atomic.replacing(path) as tmp:
    fig.savefig(tmp, dpi=100)
  plt.close(fig)
  return path
