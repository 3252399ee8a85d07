"""Stand-in datasets: no speaker or source recording in two splits; class rules; centring."""

import pathlib
import shutil

import numpy as np
import pytest

from tfrecords_tools import longgap_dataset, longgap_standins as st

DOWNLOADS = pathlib.Path('data/downloads')


def test_centre_puts_the_word_in_the_middle():
  x = np.zeros(30000, np.float32)
  x[2000:6000] = 0.5
  y = st.centre(x, 16000)
  on = np.flatnonzero(y)
  assert len(y) == 16000 and abs((on[0] + on[-1]) / 2 - 8000) < 200


def test_sound_classes_ignore_the_package_layout():
  assert st.sound_class('usr/share/games/minetest/games/minetest_game/mods/default/sounds/'
                        'default_dig_crumbly.1.ogg') == 'tools'
  assert st.sound_class('usr/share/games/lincity-ng/sounds/RailTrain1.wav') == 'vehicles'
  assert st.sound_class('sound/footsteps/grass1.ogg') == 'footsteps'
  assert st.sound_class('usr/share/games/minetest/x/abc.ogg') == 'other'


def test_translations_are_not_sound_effects(tmp_path):
  for name in ('cat.png', 'cat.ogg', 'cat_desc.ogg', 'cat_fr.ogg', 'apollo_lander.ogg'):
    (tmp_path / name).write_bytes(b'')
  kept = [p.name for p in sorted(tmp_path.iterdir()) if p.suffix == '.ogg' and not st._is_translation(p)]
  assert kept == ['apollo_lander.ogg', 'cat.ogg']


def test_opensfx_container_is_cut_into_wavs(tmp_path):
  import io
  import struct
  import soundfile as sf
  buf = io.BytesIO()
  sf.write(buf, np.full(441, 0.25, np.float32), 44100, format='WAV', subtype='PCM_16')
  wav = buf.getvalue()
  entries = [b'"Ship horn". By someone. License: CC\0' + wav, b'"Broken". x\0' + b'RIFF\x08\0\0\0junkjunk']
  body, offsets, pos = b'', [], 16
  for e in entries:
    blob = bytes([e.index(b'RIFF')]) + e
    offsets.append((pos | 0x80000000, len(blob)))
    body += blob
    pos += len(blob)
  cat = tmp_path / 'opensfx.cat'
  cat.write_bytes(b''.join(struct.pack('<II', o, n) for o, n in offsets) + body)
  assert [t for t, _ in st.read_cat(cat.read_bytes())] == ['"Ship horn". By someone. License: CC', '"Broken". x']
  out = st.opensfx_wavs(cat, tmp_path / 'wav')
  files = sorted(p.name for p in out.iterdir())
  assert files == ['00-Ship-horn.wav']  # the unreadable entry is skipped
  x, rate = sf.read(out / files[0])
  assert rate == 44100 and len(x) == 441 and st.sound_class(files[0]) == 'vehicles'


def test_synthetic_speakers_stay_in_one_split(tmp_path, monkeypatch):
  monkeypatch.setattr(st, 'ESPEAK_ACCENTS', ('en-us',))
  monkeypatch.setattr(st, 'ESPEAK_VARIANTS', ('m1', 'm7'))
  monkeypatch.setattr(st, 'ESPEAK_PITCH_SPEED', ((50, 160),))
  monkeypatch.setattr(st, 'FLITE_VOICES', ('kal', 'rms'))
  monkeypatch.setattr(st, 'FLITE_STRETCH', (1.0,))
  monkeypatch.setattr(st, 'DIGITS', ('seven',))
  items = st.synthesise(tmp_path)
  assert {(i.group, i.split) for i in items} == {
      ('espeak-en-us-m1', 'train'), ('espeak-en-us-m7', 'valid'), ('flite-kal', 'train'),
      ('flite-rms', 'valid')}
  assert not longgap_dataset.shared_groups(items)
  x = items[0].load()
  assert x.shape == (16000,) and np.abs(x).max() > 0.05


@pytest.mark.slow
# What `make longgap-demo-data` leaves (the short-gap stand-ins share data/downloads/deb).
@pytest.mark.skipif(not ((DOWNLOADS / 'x' / 'asterisk-core-sounds-en-g722').exists()
                         and shutil.which('ffmpeg')), reason='needs make longgap-demo-data first')
def test_built_standins_keep_groups_and_clips_apart():
  speech = st.real_digit_items(DOWNLOADS)
  assert len(speech) == 220 and {i.split for i in speech} == {'test'}
  assert len({i.group for i in speech}) == 23  # asterisk + tuxpaint's English and 21 others
  sfx = st.esc50_standin_items(DOWNLOADS)
  assert not longgap_dataset.shared_groups(sfx)
  origins = [i.origin for i in sfx]
  assert len(origins) == len(set(origins))  # no clip twice
  assert {i.split for i in sfx} == {'train', 'valid', 'test'}
