"""manifest.json of a dataset folder (no TensorFlow needed to read it)."""

import json
import pathlib


class DatasetError(Exception):
  """A dataset folder that cannot be read (message names it)."""


def read_manifest(data_dir) -> dict:
  path = pathlib.Path(data_dir) / 'manifest.json'
  if not path.exists():
    raise DatasetError(f'{path}: no such file; build the dataset first '
                       '(make demo-data / make data)')
  try:
    return json.loads(path.read_text())
  except json.JSONDecodeError as e:
    raise DatasetError(f'{path}: not valid JSON ({e})') from None
