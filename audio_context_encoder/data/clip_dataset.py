"""A built long-gap dataset folder, read (tfrecords_tools/longgap_dataset.py writes it).

  settings.json       protocol, sample rate, clip length, source, counts per split
  clips.csv           one row per clip: split, index, label, group, source, origin
  clips-<split>.npy   int16 [N, T] clips of that split (x 32768)

Every problem is a DatasetError of one line that names the file.
"""

import csv
import json
import pathlib
from typing import List

import numpy as np

from audio_context_encoder.common.errors import DatasetError

SPLITS = ('train', 'valid', 'test')


def read_index(folder) -> List[dict]:
  path = pathlib.Path(folder) / 'clips.csv'
  if not path.exists():
    raise DatasetError(f'{folder}: no clips.csv; build it first (make longgap-demo-data)')
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def read_settings(folder) -> dict:
  path = pathlib.Path(folder) / 'settings.json'
  if not path.exists():
    raise DatasetError(f'{folder}: no settings.json; build it first (make longgap-demo-data)')
  try:
    settings = json.loads(path.read_text())
  except (OSError, ValueError) as e:
    raise DatasetError(f'{path}: damaged, not JSON ({e}); rebuild with --rebuild') from None
  if not isinstance(settings, dict) or not {'protocol', 'counts', 'source'} <= set(settings):
    raise DatasetError(f'{path}: not the settings of a long-gap dataset; rebuild with --rebuild')
  return settings


def is_complete(folder) -> bool:
  """Whether every file of a built folder is there (settings, index and the clips of each split)."""
  folder = pathlib.Path(folder)
  return all((folder / name).is_file() for name in
             ['settings.json', 'clips.csv'] + [f'clips-{split}.npy' for split in SPLITS])


def read_split(folder, split: str):
  """(clips float32 [N, T] in [-1, 1), index rows of that split)."""
  if split not in SPLITS:
    raise DatasetError(f'unknown split {split!r}; choose one of {SPLITS}')
  path = pathlib.Path(folder) / f'clips-{split}.npy'
  if not path.exists():
    raise DatasetError(f'{folder}: no {path.name}; build it first (make longgap-demo-data)')
  try:
    clips = np.load(path, allow_pickle=False).astype(np.float32) / 32768
  except (OSError, ValueError, EOFError) as e:
    raise DatasetError(f'{path}: damaged or truncated ({str(e)[:80]}); rebuild with '
                       '--rebuild') from None
  rows = [r for r in read_index(folder) if r['split'] == split]
  if len(rows) != len(clips):
    raise DatasetError(f'{folder}: clips.csv lists {len(rows)} {split} clips, {path.name} has {len(clips)}')
  return clips, rows
