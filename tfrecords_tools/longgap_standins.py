"""Offline stand-ins for SC09 and ESC-50, from Debian packages (no network beyond apt).

SC09-like (1 s at 16 kHz, digits zero..nine):
  train/valid  digits synthesised by espeak-ng (8 English accents x 16 voice variants x 3
               pitch/speed settings) and flite (5 voices x 3 speeds); a speaker is one
               (engine, accent, variant); the valid speakers are the variants VALID_VARIANTS
               and the flite voice 'rms', so no speaker is in two splits.
  test         real recordings only: asterisk-core-sounds-en-g722 (digits/0-9.g722, one
               speaker, G.722 decoded by ffmpeg) and tuxpaint-stamps-default's spoken digits
               (stamps/symbols/math/{0..9}*.ogg: English and 20 other languages, one speaker
               per language file set).
  Each utterance is trimmed of silence and centred in its 1 s clip (so the 0.4-0.6 s test
  mask falls on the word, as it mostly does in SC09).
ESC-50-like (5 s at 22.05 kHz): sound effects from tuxpaint-stamps-default (not the spoken
  names), scorched3d-data, ufoai-sound (OGGs inside base/0snd.pk3, a zip), lincity-ng-data,
  minetest-data, micropolis-data and simutrans-pak64, grouped into classes by keywords of
  their paths (CLASS_RULES). A file gives up to MAX_CLIPS_PER_FILE consecutive 5 s clips (the
  last padded with silence, as ESC-50 pads short clips); a group is one source file. Groups
  are dealt into 5 folds per class (seeded); folds 1-4 train, fold 5: the first half of its
  groups (in a seeded shuffled order, like ESC-50's file order) valid, the rest test, as the
  paper splits ESC-50's fold 5.
  openttd-opensfx's WAVs are cut out of its opensfx.cat container (opensfx_wavs), named by
  the title each entry carries (e.g. "Steam train station departure").
"""

import pathlib
import re
import shutil
import subprocess
from typing import Dict, List, Sequence

import numpy as np

from audio_context_encoder.longgap import config
from audio_context_encoder.audio import audio_io
from tfrecords_tools import download, sources
from tfrecords_tools.longgap_dataset import ClipItem, DatasetError

SPEECH_PACKAGES = ('asterisk-core-sounds-en-g722', 'tuxpaint-stamps-default')
SFX_PACKAGES = ('tuxpaint-stamps-default', 'scorched3d-data', 'ufoai-sound', 'openttd-opensfx',
                'lincity-ng-data', 'minetest-data', 'micropolis-data', 'simutrans-pak64')
DIGITS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
ESPEAK_ACCENTS = ('en-gb', 'en-us', 'en-us-nyc', 'en-gb-scotland', 'en-gb-x-gbclan',
                  'en-gb-x-gbcwmd', 'en-gb-x-rp', 'en-029')
ESPEAK_VARIANTS = ('m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5',
                   'klatt', 'klatt2', 'klatt3', 'croak')
ESPEAK_PITCH_SPEED = ((35, 130), (50, 160), (70, 190))
FLITE_VOICES = ('kal', 'kal16', 'awb', 'rms', 'slt')
FLITE_STRETCH = (0.8, 1.0, 1.25)
VALID_VARIANTS = ('m7', 'f5', 'klatt3')
VALID_FLITE = ('rms',)
MAX_CLIPS_PER_FILE = 4
MIN_SECONDS = 0.25  # shorter sound files are skipped
CLASS_RULES = (
    ('footsteps', ('footstep',)),
    ('explosion', ('explosion', 'explode', 'nuclear', 'impact', 'crash')),
    ('fire', ('fire', 'flame', 'lava', 'ignite', 'burning', 'ignition')),
    ('water', ('water', 'lake', 'seagull', 'harbor', 'boat', 'dock', 'splash')),
    ('weapons', ('weapon', 'shoot', 'gun', 'rifle', 'laser')),
    ('animals', ('animals', 'horse', 'quack', 'cuckoo', 'aliens', 'monster', 'bird')),
    ('vehicles', ('truck', 'bus', 'train', 'rail', 'cart', 'plane', 'jet', 'diesel', 'steam',
                  'ugv', 'airport', 'honk', 'siren', 'skid', 'trafic', 'traffic', 'movement',
                  'vehicles', 'tank', 'engine', 'ship', 'ferry', 'helicopter', 'propeller',
                  'tram', 'monorail', 'maglev')),
    ('doors', ('door',)),
    ('voices', ('soldiers', 'civilians', 'aaah', 'sorry', 'uhuh', 'oop', 'scream', 'voice')),
    ('tools', ('dig', 'dug', 'break', 'place', 'tool', 'hammer', 'saw', 'bulldozer', 'cutting',
               'build', 'construction', 'household', 'gavel', 'raze')),
    ('ambience', ('ambience', 'forest', 'desert', 'arctic', 'tropic', 'env', 'residential',
                  'industry', 'farm', 'parkland', 'mine', 'sports', 'university', 'school')),
    ('music', ('music', 'seasonal')),
)


def _run(cmd, cwd=None, what=''):
  try:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
  except FileNotFoundError:
    raise DatasetError(f'{what or cmd[0]}: `{cmd[0]}` is not installed '
                       '(make longgap-demo-data installs it)') from None
  except subprocess.CalledProcessError as e:
    tail = (e.stderr or '').strip().splitlines()[-1:] or ['']
    raise DatasetError(f'{" ".join(cmd[:3])} failed: {tail[0]}') from None


def fetch_deb(download_dir, package: str) -> pathlib.Path:
  """`apt-get download` + `dpkg-deb -x` of one package (nothing is installed); its root."""
  download_dir = pathlib.Path(download_dir)
  return download.fetch_deb(package, download_dir / 'deb', download_dir / 'x' / package)


def centre(x, n: int, rel_db: float = -40.0) -> np.ndarray:
  """The part above rel_db of the peak (frames of 10 ms), centred in n samples."""
  x = np.asarray(x, np.float32)
  if not x.size or not np.any(x):
    return np.zeros(n, np.float32)
  frame = 160
  k = len(x) // frame
  rms = np.sqrt(np.mean(x[:k * frame].reshape(k, frame) ** 2, axis=1)) if k else np.array([1.0])
  on = np.flatnonzero(rms >= rms.max() * 10 ** (rel_db / 20))
  x = x[on[0] * frame:(on[-1] + 1) * frame] if k else x
  if len(x) >= n:
    s = (len(x) - n) // 2
    return x[s:s + n]
  out = np.zeros(n, np.float32)
  s = (n - len(x)) // 2
  out[s:s + len(x)] = x
  return out


def _centred_loader(path, rate=16000, n=16000):
  return lambda: centre(audio_io.load(path, rate), n)


# ---- SC09-like ----
def synthesise(work_dir, progress=None) -> List[ClipItem]:
  """espeak-ng and flite digits (cached WAVs under work_dir), train/valid by speaker."""
  work = pathlib.Path(work_dir)
  items = []
  jobs = []
  for accent in ESPEAK_ACCENTS:
    for variant in ESPEAK_VARIANTS:
      speaker = f'espeak-{accent}-{variant}'
      split = 'valid' if variant in VALID_VARIANTS else 'train'
      for pitch, speed in ESPEAK_PITCH_SPEED:
        for digit in DIGITS:
          out = work / 'espeak' / f'{accent}+{variant}' / f'{digit}-p{pitch}-s{speed}.wav'
          jobs.append((out, ['espeak-ng', '-v', f'{accent}+{variant}', '-p', str(pitch), '-s',
                             str(speed), '-w', '{out}', digit]))
          items.append(ClipItem(split, digit, speaker, 'espeak-ng', str(out.relative_to(work)),
                                _centred_loader(out)))
  for voice in FLITE_VOICES:
    split = 'valid' if voice in VALID_FLITE else 'train'
    for stretch in FLITE_STRETCH:
      for digit in DIGITS:
        out = work / 'flite' / voice / f'{digit}-x{stretch}.wav'
        jobs.append((out, ['flite', '-voice', voice, '--setf', f'duration_stretch={stretch}',
                           '-t', digit, '-o', '{out}']))
        items.append(ClipItem(split, digit, f'flite-{voice}', 'flite', str(out.relative_to(work)),
                              _centred_loader(out)))
  for out, cmd in jobs:
    if not out.exists():
      out.parent.mkdir(parents=True, exist_ok=True)
      tmp = out.with_name('.tmp-' + out.name)
      _run([str(tmp) if a == '{out}' else a for a in cmd], what=cmd[0])
      tmp.rename(out)
    if progress:
      progress()
  return items


def decode_g722(src, dest) -> pathlib.Path:
  """ffmpeg: raw G.722 (16 kHz) -> WAV, cached."""
  dest = pathlib.Path(dest)
  if not dest.exists():
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name('.tmp-' + dest.name)
    _run(['ffmpeg', '-y', '-loglevel', 'error', '-f', 'g722', '-i', str(src), '-ar', '16000',
          str(tmp)], what='ffmpeg')
    tmp.rename(dest)
  return dest


def real_digit_items(download_dir) -> List[ClipItem]:
  """The test split: asterisk's digits and tuxpaint's spoken digits (real recordings)."""
  download_dir = pathlib.Path(download_dir)
  items = []
  ast = fetch_deb(download_dir, 'asterisk-core-sounds-en-g722')
  for d, word in enumerate(DIGITS):
    src = next(ast.glob(f'usr/share/asterisk/sounds/*/digits/{d}.g722'), None)
    if src is None:
      raise DatasetError(f'{ast}: no digits/{d}.g722')
    wav = decode_g722(src, download_dir / 'g722-wav' / f'{d}.wav')
    items.append(ClipItem('test', word, 'asterisk-allison', 'asterisk', f'digits/{d}.g722',
                          _centred_loader(wav)))
  tux = fetch_deb(download_dir, 'tuxpaint-stamps-default')
  math = next(tux.glob('usr/share/tuxpaint/stamps/symbols/math'), None)
  if math is None:
    raise DatasetError(f'{tux}: no stamps/symbols/math')
  for d, word in enumerate(DIGITS):
    for p in sorted(math.glob(f'{d}*.ogg')):
      m = re.fullmatch(rf'{d}(?:_([a-z]{{2}}(?:_[A-Za-z]{{2}})?))?', p.stem)
      if m is None:  # 0_desc_fr.ogg and the like: descriptions, not the digit
        continue
      lang = m.group(1) or 'en'
      items.append(ClipItem('test', word, f'tuxpaint-{lang}', 'tuxpaint', f'math/{p.name}',
                            _centred_loader(p)))
  return items


def sc09_standin_items(download_dir, progress=None) -> List[ClipItem]:
  return synthesise(pathlib.Path(download_dir) / 'tts', progress) + real_digit_items(download_dir)


# ---- ESC-50-like ----
# Path tokens that name a package's layout, not the sound.
_LAYOUT = {'usr', 'share', 'games', 'data', 'minetest', 'scorched3d', 'lincity', 'ng', 'tuxpaint',
           'stamps', 'ufoai', 'micropolis', 'simutrans', 'pak', 'pak64', 'globalmods', 'none',
           'apoc', 'sound', 'sounds', 'wav', 'mods', 'res', 'base', 'game', 'ogg'}


def sound_class(rel_path: str) -> str:
  """The first CLASS_RULES class with a path token starting with one of its keywords, else
  'other' (layout tokens such as usr/share/games are ignored)."""
  tokens = [t for t in re.split(r'[^a-z0-9]+', rel_path.lower()) if t and t not in _LAYOUT]
  for name, keys in CLASS_RULES:
    if any(t.startswith(k) for k in keys for t in tokens):
      return name
  return 'other'


def _is_translation(p: pathlib.Path) -> bool:
  """tuxpaint's name_xx.ogg / name_desc*.ogg (spoken names, not the sound effect)."""
  if '_desc' in p.stem:
    return True
  m = re.fullmatch(r'(.+?)_([a-z]{2}(?:_[A-Za-z]{2})?)', p.stem)
  return bool(m) and any((p.parent / f'{m.group(1)}{ext}').exists() for ext in ('.ogg', '.png', '.svg'))


def sound_files(download_dir) -> Dict[str, List[pathlib.Path]]:
  """package -> its sound-effect files (ufoai's pk3 unpacked first)."""
  download_dir = pathlib.Path(download_dir)
  out = {}
  for pkg in SFX_PACKAGES:
    root = fetch_deb(download_dir, pkg)
    if pkg == 'ufoai-sound':
      pk3 = next(root.glob('usr/share/games/ufoai/base/0snd.pk3'))
      root = download.unpack(pk3, download_dir / 'x' / 'ufoai-0snd')
    elif pkg == 'openttd-opensfx':
      cat = next(root.glob('usr/share/games/openttd/baseset/opensfx/opensfx.cat'))
      root = opensfx_wavs(cat, download_dir / 'x' / 'openttd-opensfx-wav')
    files = [p for p in sorted(root.rglob('*')) if p.suffix.lower() in ('.ogg', '.wav')]
    if pkg == 'tuxpaint-stamps-default':
      files = [p for p in files if 'symbols' not in p.parts and not _is_translation(p)]
    out[pkg] = files
  return out


def read_cat(data: bytes):
  """(title, WAV bytes) of each entry of an OpenTTD sound container (.cat).

  Layout (OpenTTD's sound loader): a table of (offset, size) uint32 pairs, the offsets' top
  bit set in the new format, the first offset / 8 = the number of entries; at each offset a
  length byte, the title (NUL-terminated, with author and licence), then a RIFF WAV.
  """
  import struct
  if len(data) < 8:
    raise DatasetError('not an OpenTTD .cat sound container (too short)')
  count = (struct.unpack('<I', data[:4])[0] & 0x7fffffff) // 8
  out = []
  for i in range(count):
    off, size = struct.unpack('<II', data[8 * i:8 * i + 8])
    off &= 0x7fffffff
    title = data[off + 1:off + 1 + data[off]].split(b'\0')[0].decode('latin-1')
    j = data.find(b'RIFF', off, off + size)
    if j < 0:
      continue
    n = struct.unpack('<I', data[j + 4:j + 8])[0] + 8
    out.append((title, data[j:j + n]))
  return out


def opensfx_wavs(cat, dest) -> pathlib.Path:
  """The readable WAVs of opensfx.cat as NN-<title>.wav files under dest (cached)."""
  import io
  import soundfile as sf
  dest = pathlib.Path(dest)
  if dest.exists():
    return dest
  tmp = dest.with_name(f'.{dest.name}.unpacking')
  shutil.rmtree(tmp, ignore_errors=True)
  tmp.mkdir(parents=True)
  for i, (title, wav) in enumerate(read_cat(pathlib.Path(cat).read_bytes())):
    try:
      sf.info(io.BytesIO(wav))
    except Exception:  # a few entries are not plain PCM WAVs; skipped
      continue
    name = re.sub(r'[^A-Za-z0-9]+', '-', title.split('. ')[0].strip('"')).strip('-')[:60]
    (tmp / f'{i:02d}-{name}.wav').write_bytes(wav)
  tmp.rename(dest)
  return dest


def esc50_standin_items(download_dir, seed: int = 0) -> List[ClipItem]:
  """Clips of the sound-effect files, classes by keyword, 5 folds by source file."""
  rate, n = config.ESC50.sample_rate, config.ESC50.clip_samples
  groups = []  # (class, group id, path)
  for pkg, files in sound_files(download_dir).items():
    for p in files:
      rel = re.split(r'/x/(?:ufoai-0snd|openttd-opensfx-wav|' + re.escape(pkg) + ')/', str(p))[-1]
      groups.append((sound_class(rel), f'{pkg}:{rel}', p))
  by_class: Dict[str, list] = {}
  for g in groups:
    by_class.setdefault(g[0], []).append(g)
  fold_of = {}
  rng = np.random.default_rng(seed)
  for cls in sorted(by_class):
    members = sorted(by_class[cls], key=lambda g: g[1])
    for i, j in enumerate(rng.permutation(len(members))):
      fold_of[members[j][1]] = 1 + (i % 5)
  fold5 = sorted(g[1] for g in groups if fold_of[g[1]] == 5)
  fold5 = [fold5[j] for j in rng.permutation(len(fold5))]  # file order would split by package
  valid = set(fold5[:len(fold5) // 2])
  items = []
  for cls, gid, path in sorted(groups, key=lambda g: g[1]):
    fold = fold_of[gid]
    split = 'train' if fold in config.ESC50_TRAIN_FOLDS else ('valid' if gid in valid else 'test')
    try:
      length = audio_io.load(path, rate).shape[0]
    except audio_io.AudioDecodeError:
      continue
    if length < MIN_SECONDS * rate:
      continue
    full, rest = divmod(length, n)  # a last piece counts when it is longer than 1 s
    pieces = min(MAX_CLIPS_PER_FILE, max(1, full + (rest > rate)))
    for k in range(pieces):
      items.append(ClipItem(split, cls, gid, gid.split(':')[0], f'{gid}@{k * 5}s',
                            _piece_loader(path, rate, k * n, n)))
  return items


_LAST = {}  # the last decoded file: its pieces are written one after another


def _decoded(path, rate) -> np.ndarray:
  key = (str(path), rate)
  if key not in _LAST:
    _LAST.clear()
    _LAST[key] = audio_io.load(path, rate)
  return _LAST[key]


def _piece_loader(path, rate, start, n):
  return lambda: _decoded(path, rate)[start:start + n]


def tool_licences() -> list:
  """The copyright files of the speech synthesisers (their voices are in the training data)."""
  out = []
  for pkg in ('espeak-ng-data', 'espeak-ng', 'flite', 'libflite1'):
    p = pathlib.Path('/usr/share/doc') / pkg / 'copyright'
    if p.exists():
      out.append((p, f'licences/{pkg}-copyright.txt'))
  return out


def licence_files(download_dir, packages: Sequence[str]) -> list:
  """(copyright file, name to copy it as) of each Debian package used."""
  out = []
  for pkg in packages:
    for p in sorted((pathlib.Path(download_dir) / 'x' / pkg).glob('usr/share/doc/*/copyright')):
      out.append((p, f'licences/{p.parent.name}-copyright.txt'))
  return out


sources.register(sources.Source(
    'sc09-standin', 'spoken digits synthesised by espeak-ng and flite plus real ones from Debian '
    'packages, in the SC09 protocol', lambda r: pathlib.Path(r.download_dir),
    lambda root, r: sc09_standin_items(root), builds=sources.CLIPS, protocol=config.SC09.name,
    licence_files=lambda root: licence_files(root, SPEECH_PACKAGES) + tool_licences()))
sources.register(sources.Source(
    'esc50-standin', 'sound effects of Debian game packages, sorted into classes, in the ESC-50 '
    'protocol', lambda r: pathlib.Path(r.download_dir), lambda root, r: esc50_standin_items(root),
    builds=sources.CLIPS, protocol=config.ESC50.name,
    licence_files=lambda root: licence_files(root, SFX_PACKAGES)))
