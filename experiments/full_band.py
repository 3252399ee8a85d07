"""The full-band fill measured (issue 21): 44.1 kHz excerpts of the music stand-in's test tracks
(their source OGG files, mono), the excerpt protocol's gaps (docs/perceptual.md), each method
with and without the band above 8 kHz filled at 44.1 kHz (inpaint.FULL_BAND).

  python -m experiments.full_band --excerpts=12 --out=results/full_band.md

Per excerpt: the energy above 8.5 kHz inside the gaps against the original's (dB), SNR_TD over
the gaps' samples, ViSQOL (audio mode, resampled to 48 kHz).
"""

import os
import pathlib
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from absl import app, flags  # noqa: E402
from scipy import signal as sps  # noqa: E402

from audio_context_encoder.common import atomic  # noqa: E402
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder.methods import inpaint
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import perceptual
from audio_context_encoder.config import DataConfig  # noqa: E402
from tfrecords_tools import sources  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string('audio_root', 'data/downloads/wesnoth-music', 'the music stand-in\'s sources')
flags.DEFINE_integer('excerpts', 12, 'excerpts, spread evenly over the test tracks')
flags.DEFINE_list('methods', ['lpc', 'network', 'janssen-gapwise'], 'methods to fill with')
flags.DEFINE_string('out', 'results/full_band.md', 'the report')


def test_excerpts(n: int):
  """(rate, [(name, start s, mono excerpt)]) of the test split's tracks at their own rate."""
  data = DataConfig()
  items = [i for i in sources.demo_music_items(pathlib.Path(FLAGS.audio_root), data.music_split,
                                                data.split_seed) if i.split == 'test']
  slots, audio, rate = [], {}, None
  for item in items:
    x, rate = soundfile.read(item.path, always_2d=True)
    audio[item.track_id] = x.mean(axis=1)
    length = int(excerpts.PROTOCOL.seconds * rate)
    slots += [(item.track_id, s) for s in range(0, len(x) - length + 1, length)]
  chosen = [slots[i] for i in metrics.spread_indices(len(slots), n)]
  length = int(excerpts.PROTOCOL.seconds * rate)
  return rate, [(t, s / rate, audio[t][s:s + length]) for t, s in chosen]


def high_db(x, y, rate, spans):
  sos = sps.butter(6, 8500, 'high', fs=rate, output='sos')
  hx, hy = sps.sosfiltfilt(sos, x), sps.sosfiltfilt(sos, y)
  ex = sum(np.sum(hx[a:b] ** 2) for a, b in spans)
  ey = sum(np.sum(hy[a:b] ** 2) for a, b in spans)
  return 10 * np.log10(max(ey, 1e-30) / max(ex, 1e-30))


def main(argv):
  del argv
  rate, shown = test_excerpts(FLAGS.excerpts)
  gaps = excerpts.PROTOCOL.gap_list()
  spans = [g.samples(rate) for g in gaps]
  scorer = perceptual.Visqol('audio')
  rows = {}
  for name in FLAGS.methods:
    method = methods.get(name)
    for full in (False, True):
      vals = {'high': [], 'snr_td': [], 'visqol': []}
      for _, _, x in shown:
        damaged = x.copy()
        for a, b in spans:
          damaged[a:b] = 0
        y = inpaint.fill_gaps(damaged, rate, gaps, method=method, full_band=full)
        vals['high'].append(high_db(x, y, rate, spans))
        ref = np.concatenate([x[a:b] for a, b in spans])
        est = np.concatenate([y[a:b] for a, b in spans])
        vals['snr_td'].append(float(metrics.snr(ref[None], est[None])[0]))
        vals['visqol'].append(scorer.score(x, y, rate))
      rows[(name, full)] = vals
      print(name, full, *(f'{np.mean(v):.3f}' for v in vals.values()), flush=True)
  lines = ['# The band above 8 kHz, filled at the file\'s rate (issue 21)', '',
           f'`python -m experiments.full_band {" ".join(sys.argv[1:])}`: {len(shown)} excerpts of '
           f'{excerpts.PROTOCOL.seconds:g} s at {rate} Hz (mono) from the music stand-in\'s test '
           'tracks, the excerpt protocol\'s gaps (64, 48, 64 ms); every row on the same excerpts. '
           'High band: energy above 8.5 kHz inside the gaps against the original\'s, mean over '
           'excerpts (0 dB = all of it). ViSQOL: audio mode at 48 kHz.', '',
           '| method | full band | high band (dB) | SNR_TD (dB) | ViSQOL | ViSQOL, full minus not (± s.e.) |',
           '|---|---|---:|---:|---:|---:|']
  for name in FLAGS.methods:
    for full in (False, True):
      v = rows[(name, full)]
      d = perceptual.paired(v['visqol'], rows[(name, False)]['visqol'])
      diff = f'{d["mean"]:+.3f} ± {d["se"]:.3f}' if full else ''
      lines.append(f'| {name} | {"yes" if full else "no (16 kHz only)"} | {np.mean(v["high"]):.1f} | '
                   f'{np.mean(v["snr_td"]):.2f} | {np.mean(v["visqol"]):.3f} | {diff} |')
  atomic.write_text(FLAGS.out, '\n'.join(lines) + '\n')
  print('\n'.join(lines))
  return 0


if __name__ == '__main__':
  app.run(main)
