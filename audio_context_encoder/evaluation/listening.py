"""The listening page: a static HTML page to hear and see every method on the same excerpts.

`build(folder)` reads the excerpt sets under `folder` (each subfolder with an excerpts.json
written by excerpts.run: music, instruments, a user's files, ...) and writes `folder/index.html`
with, per section: what each method is, the perceptual table over all its excerpts, then a few
excerpts chosen evenly (metrics.spread_indices, not the best ones), each with players for the
original, the zeroed excerpt and every method, a spectrogram with the gaps marked and one zoomed
in on the first gap, and its ViSQOL / SNR_TD / SNR_MS per method. Links are relative and nothing
is fetched from the internet: the page works from a file manager and over any HTTP server.
"""

import html
import json
import os
from typing import List

import numpy as np
import soundfile

from audio_context_encoder.common import atomic
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import perceptual
from audio_context_encoder.evaluation import plots

PAGE_EXCERPTS = 4  # excerpts shown per section (the tables use all of them)
ZOOM_S = 0.15  # seconds shown on each side of the first gap in the zoomed spectrogram

STYLE = """
body { font-family: sans-serif; max-width: 72em; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
article.excerpt { border-top: 2px solid #888; margin-top: 1.5em; }
img { max-width: 100%; display: block; margin: 0.3em 0; }
audio { height: 2em; }
dt { font-weight: bold; } dd { margin: 0 0 0.4em 1.5em; }
"""


def sections(folder: str) -> List[str]:
  """The excerpt sets under `folder` (subfolders holding an excerpts.json), in the order they
  were written (make tables: music, then instruments)."""
  found = [name for name in os.listdir(folder)
           if os.path.isfile(os.path.join(folder, name, 'excerpts.json'))]
  return sorted(found, key=lambda n: (os.path.getmtime(os.path.join(folder, n, 'excerpts.json')), n))


def _spectrograms(folder: str, entry: dict, record: dict) -> List[str]:
  """The excerpt's two figures (whole, and zoomed on its first gap), written if missing."""
  rate = record.get('rate', excerpts.RATE)
  names = [excerpts.ORIGINAL] + record['methods']
  signals = [(n, soundfile.read(os.path.join(folder, entry['files'][n]))[0]) for n in names]
  gaps = [(start, start + ms / 1000) for start, ms in record['protocol']['gaps']]
  marks = [t for gap in gaps for t in gap]
  whole = f'{entry["id"]}/spectrogram.png'
  zoom = f'{entry["id"]}/zoom.png'
  if not os.path.exists(os.path.join(folder, whole)):
    plots.save_spectrograms(signals, rate, os.path.join(folder, whole),
                            f'{entry["source"]} from {entry["start_s"]:g} s (dB); gaps between '
                            'the dashed lines', marks=marks, columns=2)
  if not os.path.exists(os.path.join(folder, zoom)):
    plots.save_spectrograms(signals, rate, os.path.join(folder, zoom),
                            f'zoomed on the first gap ({1000 * (gaps[0][1] - gaps[0][0]):g} ms)',
                            marks=gaps[0], columns=2,
                            xlim=(gaps[0][0] - ZOOM_S, gaps[0][1] + ZOOM_S))
  return [whole, zoom]


def _number(x: float, digits: int) -> str:
  return '—' if x is None or not np.isfinite(x) else f'{x:.{digits}f}'


def _section(name: str, folder: str, page_excerpts: int) -> str:
  with open(os.path.join(folder, 'excerpts.json')) as f:
    record = json.load(f)
  e = html.escape
  methods = record['methods']
  protocol = record['protocol']
  gaps = ', '.join(f'{ms:g} ms at {start:g} s' for start, ms in protocol['gaps'])
  out = [f'<section id="{e(name)}"><h2>{e(record.get("title") or name)}</h2>',
         f'<p>{len(record["excerpts"])} excerpts of {protocol["seconds"]:g} s, each with gaps of '
         f'{gaps}; every method fills the same gaps. ViSQOL v3, {e(record["visqol_mode"])} mode '
         f'({e(record["mapper"])}), MOS-LQO from 1 to 5 against the original excerpt.</p>', '<dl>']
  for m in methods:
    out.append(f'<dt>{e(m)}</dt><dd>{e(record.get("descriptions", {}).get(m, ""))}</dd>')
  out += ['</dl>', '<table class="summary"><tr><th>method</th><th>ViSQOL mean (std)</th>'
          '<th>vs zeroed (± s.e.)</th><th>SNR_TD (dB)</th><th>SNR_MS (dB)</th></tr>']
  zeroed = excerpts.scores_of(record, excerpts.ZEROED)
  for m in methods:
    v = perceptual.summary(excerpts.scores_of(record, m))
    d = perceptual.paired(excerpts.scores_of(record, m), zeroed)
    vs = '—' if m == excerpts.ZEROED else f'{d["mean"]:+.3f} ± {d["se"]:.3f}'
    td = metrics.summary(excerpts.scores_of(record, m, 'snr_td'))['mean']
    ms = metrics.summary(excerpts.scores_of(record, m, 'snr_ms'))['mean']
    out.append(f'<tr><td>{e(m)}</td><td class="num">{v["mean"]:.3f} ({v["std"]:.3f})</td>'
               f'<td class="num">{vs}</td><td class="num">{_number(td, 2)}</td>'
               f'<td class="num">{_number(ms, 2)}</td></tr>')
  ceiling = perceptual.summary([x['ceiling'] for x in record['excerpts']])
  out.append(f'<tr><td>original vs itself (ceiling)</td><td class="num">{ceiling["mean"]:.3f}</td>'
             '<td></td><td></td><td></td></tr></table>')
  shown = [record['excerpts'][i] for i in metrics.spread_indices(len(record['excerpts']),
                                                                 page_excerpts)]
  for entry in shown:
    figures = _spectrograms(folder, entry, record)
    out.append(f'<article class="excerpt" id="{e(name)}-{e(entry["id"])}">'
               f'<h3>Excerpt {e(entry["id"])}: {e(entry["source"])} from {entry["start_s"]:g} s</h3>')
    out.append('<table class="scores"><tr><th>method</th><th>listen</th><th>ViSQOL</th>'
               '<th>SNR_TD (dB)</th><th>SNR_MS (dB)</th></tr>')
    out.append(f'<tr class="reference"><td>{excerpts.ORIGINAL}</td><td>'
               f'<audio controls preload="metadata" src="{e(name)}/'
               f'{e(entry["files"][excerpts.ORIGINAL])}"></audio></td>'
               f'<td class="num">{entry["ceiling"]:.3f}</td><td></td><td></td></tr>')
    for m in methods:
      s = entry['scores'][m]
      out.append(f'<tr class="method"><td>{e(m)}</td><td><audio controls preload="metadata" '
                 f'src="{e(name)}/{e(entry["files"][m])}"></audio></td>'
                 f'<td class="num">{s["visqol"]:.3f}</td><td class="num">{_number(s["snr_td"], 2)}</td>'
                 f'<td class="num">{_number(s["snr_ms"], 2)}</td></tr>')
    out.append('</table>')
    out += [f'<img src="{e(name)}/{e(path)}" alt="spectrograms of excerpt {e(entry["id"])}">'
            for path in figures]
    out.append('</article>')
  out.append('</section>')
  return '\n'.join(out)


def build(folder: str, title: str = 'Listening page', page_excerpts: int = PAGE_EXCERPTS) -> str:
  """Writes folder/index.html from its excerpt sets; returns its path."""
  names = sections(folder)
  if not names:
    raise FileNotFoundError(f'{folder}: no excerpt set (a subfolder with excerpts.json, written by '
                            '`make tables`, `make demo` or `evaluate --perceptual`)')
  e = html.escape
  body = [f'<h1>{e(title)}</h1>',
          '<p>Every method fills the same gaps of the same excerpts. Listen to the original first, '
          'then the zeroed excerpt (the gaps left silent), then each method. The protocol: '
          'docs/perceptual.md of audio-context-encoder.</p>',
          '<nav>' + ' · '.join(f'<a href="#{e(n)}">{e(n)}</a>' for n in names) + '</nav>']
  body += [_section(n, os.path.join(folder, n), page_excerpts) for n in names]
  page = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
          f'<title>{e(title)}</title><link rel="icon" href="data:,"><style>{STYLE}</style></head>'
          '<body>\n' + '\n'.join(body) + '\n</body></html>\n')
  path = os.path.join(folder, 'index.html')
  atomic.write_text(path, page)
  return path
