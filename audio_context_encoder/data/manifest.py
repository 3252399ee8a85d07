"""manifest.json of a dataset folder (no TensorFlow needed to read it)."""

import json
import pathlib

from audio_context_encoder.common.errors import DatasetError

# What the readers use; a manifest without them is not one our builder wrote.
REQUIRED = ('layout', 'audio_dtype', 'segment_length', 'margin', 'record_length', 'splits')


def read_manifest(data_dir) -> dict:
  """The manifest, checked for the keys the readers need (DatasetError otherwise)."""
  path = pathlib.Path(data_dir) / 'manifest.json'
  if not path.exists():
    raise DatasetError(f'{path}: no such file; build the dataset first '
                       '(make demo-data / make data)')
  try:
    manifest = json.loads(path.read_text())
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise DatasetError(f'{path}: not valid JSON ({e})') from None
  if not isinstance(manifest, dict):
    raise DatasetError(f'{path}: not a dataset manifest (a JSON object is expected)')
  missing = [k for k in REQUIRED if k not in manifest]
  if missing or not isinstance(manifest['splits'], dict):
    raise DatasetError(f'{path}: not a dataset manifest written by tfrecords_tools.build '
                       f'(missing {", ".join(missing) or "splits"}); rebuild the dataset')
  return manifest


def check_splits(data_dir, splits, gap_ms: int = 64) -> dict:
  """The manifest, after checking that each split holds segments for `gap_ms` gaps and shards."""
  manifest = read_manifest(data_dir)
  for split in splits:
    counts = manifest['splits'].get(split) or {}
    if not counts.get(f'kept_{gap_ms}', 0):
      raise DatasetError(f'{data_dir}: the {split} split holds no {gap_ms} ms segments '
                         f'(too few or unreadable input files); rebuild with more audio')
    if not list(pathlib.Path(data_dir).glob(f'{split}-*-of-*.tfrecord')):
      raise DatasetError(f'{data_dir}: no {split}-*.tfrecord shards')
  return manifest
