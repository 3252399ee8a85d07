"""The real long-gap datasets: SC09 (Speech Commands v0.01, digits) and ESC-50.

Downloads go through download.py (resumable, checksummed, unpacked into a temp folder first).

SC09: Google publishes no checksum for speech_commands_v0.01.tar.gz. The SHA-256 pinned here
is the one torchaudio's SpeechCommands dataset checks (torchaudio/datasets/speechcommands.py,
_CHECKSUMS); a different archive is refused. Splits: the archive's official
validation_list.txt and testing_list.txt, training = every other file of the ten digit folders.
Speaker = the file name's part before "_nohash_" (the lists keep each speaker in one split).

ESC-50: GitHub's archive of the master branch; no checksum is published and GitHub's archives
are not byte-stable, so none is pinned by default (pass sha256= to pin one); the content is
checked instead: meta/esc50.csv must list 2,000 clips, 50 classes, folds 1-5 of 400, every
audio file present. Splits as Chang et al. ("Benchmark Procedure"): folds 1-4 train, fold 5 in
esc50.csv order: first 200 validation, last 200 test.
"""

import csv
import pathlib
from typing import List, Optional

from audio_context_encoder.longgap import config
from audio_context_encoder.audio import audio_io
from tfrecords_tools import download, sources
from tfrecords_tools.longgap_dataset import ClipItem, DatasetError

SC09_URL = 'http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz'
SC09_SHA256 = '743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d'
SC09_DIGITS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
ESC50_URL = 'https://github.com/karolpiczak/ESC-50/archive/master.zip'


def fetch_sc09(download_dir, url: str = SC09_URL, sha256: Optional[str] = SC09_SHA256,
               progress: bool = True) -> pathlib.Path:
  root = pathlib.Path(download_dir)
  archive = download.download(url, root / 'speech_commands_v0.01.tar.gz', sha256, 'sha256',
                              progress=progress)
  return download.unpack(archive, root / 'speech_commands_v0.01')


def _loader(path, rate):
  return lambda: audio_io.load(path, rate)


def sc09_items(root) -> List[ClipItem]:
  """The digit clips with their official split; speaker = the hash before _nohash_."""
  root = pathlib.Path(root)
  lists = {}
  for split, name in (('valid', 'validation_list.txt'), ('test', 'testing_list.txt')):
    path = root / name
    if not path.exists():
      raise DatasetError(f'{root}: no {name}; is this the Speech Commands v0.01 archive?')
    for line in path.read_text().split():
      lists[line.strip()] = split
  items = []
  for digit in SC09_DIGITS:
    for p in sorted((root / digit).glob('*.wav')):
      rel = f'{digit}/{p.name}'
      speaker = p.name.split('_nohash_')[0]
      items.append(ClipItem(lists.get(rel, 'train'), digit, f'sc09-{speaker}', 'speech-commands',
                            rel, _loader(p, config.SC09.sample_rate)))
  if not items:
    raise DatasetError(f'{root}: no zero..nine/*.wav files')
  return items


def fetch_esc50(download_dir, url: str = ESC50_URL, sha256: Optional[str] = None,
                progress: bool = True) -> pathlib.Path:
  root = pathlib.Path(download_dir)
  archive = download.download(url, root / 'ESC-50-master.zip', sha256, 'sha256', progress=progress)
  return download.unpack(archive, root / 'esc50')


def esc50_root(root) -> pathlib.Path:
  """The folder holding meta/esc50.csv (the archive's top folder or root itself)."""
  root = pathlib.Path(root)
  for cand in [root] + sorted(p for p in root.iterdir() if p.is_dir()):
    if (cand / 'meta' / 'esc50.csv').exists():
      return cand
  raise DatasetError(f'{root}: no meta/esc50.csv; is this the ESC-50 archive?')


def esc50_items(root, expect_full: bool = True) -> List[ClipItem]:
  """Folds 1-4 train; fold 5 in esc50.csv order: first 200 valid, the rest test.

  group = src_file (the freesound recording a clip was cut from). expect_full: check the
  published shape (2,000 clips, 50 classes, 400 per fold) and refuse anything else.
  """
  base = esc50_root(root)
  with open(base / 'meta' / 'esc50.csv', newline='') as f:
    rows = list(csv.DictReader(f))
  need = {'filename', 'fold', 'category', 'src_file'}
  if not rows or not need <= set(rows[0]):
    raise DatasetError(f'{base}/meta/esc50.csv: expected the columns {sorted(need)}')
  folds = [int(r['fold']) for r in rows]
  if expect_full and (len(rows) != 2000 or len({r['category'] for r in rows}) != 50
                      or any(folds.count(k) != 400 for k in range(1, 6))):
    raise DatasetError(f'{base}/meta/esc50.csv: not the published ESC-50 (2,000 clips, 50 '
                       f'classes, 5 folds of 400); got {len(rows)} rows')
  items, fold5 = [], 0
  for r, fold in zip(rows, folds):
    path = base / 'audio' / r['filename']
    if not path.exists():
      raise DatasetError(f'{path}: listed in esc50.csv but missing')
    if fold in config.ESC50_TRAIN_FOLDS:
      split = 'train'
    elif fold == config.ESC50_HOLDOUT_FOLD:
      split = 'valid' if fold5 < config.ESC50_VALID_CLIPS else 'test'
      fold5 += 1
    else:
      raise DatasetError(f'{base}/meta/esc50.csv: fold {fold} is not 1..5')
    items.append(ClipItem(split, r['category'], f'esc50-{r["src_file"]}', 'esc-50', r['filename'],
                          _loader(path, config.ESC50.sample_rate)))
  return items


def licence_files(source: str, root) -> list:
  """(file, name to copy it as) of each dataset's licence."""
  root = pathlib.Path(root)
  if source == 'sc09':
    return [(p, 'LICENSE-speech-commands.txt') for p in [root / 'LICENSE'] if p.exists()]
  if source == 'esc50':
    base = esc50_root(root)
    return [(p, f'LICENSE-esc50-{p.name}') for p in (base / 'LICENSE', base / 'README.md') if p.exists()]
  return []


sources.register(sources.Source(
    'sc09', 'Speech Commands v0.01, its ten digit words (SC09): 1 s clips at 16 kHz, the official '
    'split (Chang et al. 2019)', lambda r: fetch_sc09(r.download_dir), lambda root, r: sc09_items(root),
    builds=sources.CLIPS, protocol=config.SC09.name, licence_files=lambda root: licence_files('sc09', root)))
sources.register(sources.Source(
    'esc50', 'ESC-50 (Piczak 2015): 2,000 5 s environmental sounds, folds 1-4 train, fold 5 '
    'validation and test', lambda r: fetch_esc50(r.download_dir, sha256=r.sha256),
    lambda root, r: esc50_items(root), builds=sources.CLIPS, protocol=config.ESC50.name,
    strict=False, licence_files=lambda root: licence_files('esc50', root)))
