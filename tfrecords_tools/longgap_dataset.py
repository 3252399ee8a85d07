"""A built long-gap dataset: fixed-length clips per split, their index, counts and licences.

  <out>/clips-<split>.npy   int16 [N, clip_samples] (clip_samples of the protocol)
  <out>/clips.csv           one row per clip: split, index, label, group, source, origin
  <out>/counts.md           clips, groups (speakers / source recordings), labels, minutes per split
  <out>/settings.json       protocol name, sample rate, clip length, the command's source
Each file is written through audio_context_encoder.common.atomic (all or nothing). `group` is what
must never straddle two splits (a speaker for SC09, a source recording for ESC-50).
"""

import csv
import dataclasses
import io
import pathlib
import shutil
from typing import Callable, Dict, List, Sequence

import numpy as np

from audio_context_encoder.common import atomic
from audio_context_encoder.common.errors import AudioDecodeError, DatasetError
from audio_context_encoder.data.clip_dataset import SPLITS
from audio_context_encoder.longgap import config
from tfrecords_tools.writer import to_int16

FIELDS = ('split', 'index', 'label', 'group', 'source', 'origin')


@dataclasses.dataclass(frozen=True)
class ClipItem:
  """One clip to be: its audio (a loader returns float samples at the protocol's rate)."""

  split: str
  label: str
  group: str
  source: str  # e.g. 'speech-commands', 'espeak-ng', 'asterisk'
  origin: str  # the file (and offset) it came from
  load: Callable[[], np.ndarray] = dataclasses.field(compare=False, repr=False, default=None)


def fit_length(x, n: int) -> np.ndarray:
  """Cut to n samples or pad with trailing zeros (SC09's short clips; ESC-50's padded clips)."""
  x = np.asarray(x, np.float32)
  return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def shared_groups(items: Sequence[ClipItem]) -> List[str]:
  """Groups (speakers or source recordings) found in more than one split."""
  where: Dict[str, set] = {}
  for it in items:
    where.setdefault(it.group, set()).add(it.split)
  return sorted(g for g, s in where.items() if len(s) > 1)


def check_disjoint(items: Sequence[ClipItem]) -> None:
  """DatasetError when a group (speaker or source recording) appears in two splits."""
  shared = shared_groups(items)
  if shared:
    raise DatasetError(f'{len(shared)} groups are in two splits, e.g. {shared[0]!r}')


def write(items: Sequence[ClipItem], out, protocol: config.Protocol, source: str,
          licences: Sequence = (), progress=None, strict: bool = True, skipped: list = None) -> dict:
  """Loads, fits and writes every item; returns the counts per split.

  strict: refuse a group in two splits (the stand-ins). The real ESC-50 split of the paper
  (fold 5 cut at its 200th row) may cut one source recording; strict=False records them.
  A clip that cannot be decoded is left out and its message appended to `skipped` (as the
  short-gap builder does); a build that keeps no clip is an error, and leaves no folder it made.
  """
  out = pathlib.Path(out)
  if out.exists() and not out.is_dir():
    raise DatasetError(f'{out}: is a file, not a folder; give --dest a folder')
  if strict:
    check_disjoint(items)
  loaded, skipped = {}, skipped if skipped is not None else []
  for it in items:
    try:
      loaded[id(it)] = to_int16(fit_length(it.load(), protocol.clip_samples))
    except AudioDecodeError as e:
      skipped.append(str(e))
    if progress:
      progress()
  if not loaded:
    raise DatasetError(f'{out}: no clip could be decoded from {len(items)} file(s); nothing written')
  made = not out.exists()
  try:
    out.mkdir(parents=True, exist_ok=True)
    return _write_folder(items, loaded, out, protocol, source, licences)
  except BaseException:
    if made:
      shutil.rmtree(out, ignore_errors=True)
    raise


def _write_folder(items, loaded, out, protocol, source, licences) -> dict:
  """write's files: the clips of each split, the index, licences, settings, counts."""
  items = [it for it in items if id(it) in loaded]
  rows, counts = [], {}
  for split in SPLITS:
    chosen = [it for it in items if it.split == split]
    clips = np.zeros((len(chosen), protocol.clip_samples), np.int16)
    for i, it in enumerate(chosen):
      clips[i] = loaded.pop(id(it))  # one copy of each clip in memory
      rows.append({'split': split, 'index': i, 'label': it.label, 'group': it.group,
                   'source': it.source, 'origin': it.origin})
    buf = io.BytesIO()
    np.save(buf, clips)
    atomic.write_bytes(out / f'clips-{split}.npy', buf.getvalue())
    counts[split] = {'clips': len(chosen), 'groups': len({c.group for c in chosen}),
                     'labels': len({c.label for c in chosen}),
                     'minutes': len(chosen) * protocol.clip_seconds / 60,
                     'sources': sorted({c.source for c in chosen})}
  text = io.StringIO()
  w = csv.DictWriter(text, FIELDS, lineterminator='\n')
  w.writeheader()
  w.writerows(rows)
  atomic.write_text(out / 'clips.csv', text.getvalue())
  for src, name in licences:
    dest = out / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(dest, pathlib.Path(src).read_bytes())
  settings = {'protocol': protocol.name, 'sample_rate': protocol.sample_rate,
              'clip_samples': protocol.clip_samples, 'source': source, 'counts': counts,
              'groups_in_two_splits': shared_groups(items)}
  atomic.write_json(out / 'settings.json', settings, indent=1)
  atomic.write_text(out / 'counts.md', counts_table(settings, out.name))
  return counts


def counts_table(settings: dict, name: str) -> str:
  """Markdown: clips, groups, labels, minutes and share per split (the Table 1 layout)."""
  counts = settings['counts']
  total = sum(c['clips'] for c in counts.values()) or 1
  group = 'speakers' if settings['protocol'] == 'sc09' else 'source recordings'
  lines = [f'Clips per split of {name} (source {settings["source"]}, protocol {settings["protocol"]}, '
           f'{settings["sample_rate"]} Hz, {settings["clip_samples"]} samples per clip)', '',
           f'| set | clips | % | {group} | labels | minutes | from |', '|---|---:|---:|---:|---:|---:|---|']
  for split in SPLITS:
    c = counts[split]
    lines.append(f'| {split} | {c["clips"]} | {100 * c["clips"] / total:.1f} | {c["groups"]} | '
                 f'{c["labels"]} | {c["minutes"]:.1f} | {", ".join(c["sources"])} |')
  return '\n'.join(lines) + '\n'
