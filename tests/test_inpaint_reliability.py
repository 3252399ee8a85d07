"""`inpaint` as a new user meets it (issue 9): exact samples, file-system errors, modes, refusals."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_file
from audio_context_encoder.common import errors
from audio_context_encoder.methods import inpaint
from audio_context_encoder import methods


def full_scale(path, rate, channels=2, seconds=1.0, fmt=None, subtype='PCM_24'):
  """A sine clipped at full scale (the largest and smallest codes occur), noise on top."""
  rng = np.random.default_rng(0)
  t = np.arange(int(rate * seconds)) / rate
  x = np.stack([1.2 * np.sin(2 * np.pi * (300 + 100 * c) * t) + 0.01 * rng.standard_normal(len(t))
                for c in range(channels)], axis=1)
  soundfile.write(str(path), np.clip(x, -1, 1), rate, subtype=subtype, format=fmt)


def codes(path):
  """The file's exact sample codes (int32 for integer subtypes, float64 for float ones)."""
  info = soundfile.info(str(path))
  dtype = 'int32' if info.subtype in audio_file.INT_BITS else 'float64'
  return soundfile.read(str(path), dtype=dtype, always_2d=True)[0]


def outside(n, rate, start, ms, guard16):
  """Mask of frames outside the gap widened by guard16 samples at 16 kHz on each side."""
  keep = np.ones(n, bool)
  lo = int(np.floor((np.floor(start * 16000) - guard16) * rate / 16000))
  hi = int(np.ceil((np.ceil((start + ms / 1000) * 16000) + guard16) * rate / 16000))
  keep[lo:hi] = False
  return keep


def lossless_cases():
  cases = []
  for fmt in ('WAV', 'FLAC', 'AIFF', 'CAF', 'W64', 'AU'):
    for subtype in soundfile.available_subtypes(fmt):
      if subtype in audio_file.LOSSLESS:
        cases.append((fmt, subtype))
  return cases


@pytest.mark.parametrize('fmt, subtype', lossless_cases())
def test_every_lossless_subtype_is_bit_exact_outside_the_gap(tmp_path, fmt, subtype):
  """Case 1: 24/32-bit files were clipped to 1 - 2^-15 everywhere; now only the gap changes."""
  ext = {'WAV': 'wav', 'FLAC': 'flac', 'AIFF': 'aiff', 'CAF': 'caf', 'W64': 'w64', 'AU': 'au'}[fmt]
  src, out = tmp_path / f'in.{ext}', tmp_path / f'out.{ext}'
  rate = 44100
  try:
    full_scale(src, rate, fmt=fmt, subtype=subtype)
  except Exception as e:  # a pair libsndfile lists but cannot write (e.g. stereo GSM)
    pytest.skip(f'libsndfile cannot write {fmt}/{subtype}: {e}')
  before = codes(src)
  assert cli.main(['inpaint', str(src), str(out), '--method', 'lpc', '--gap', '0.5:64']) == 0
  after = codes(out)
  assert soundfile.info(str(out)).subtype == subtype and after.shape == before.shape
  keep = outside(len(before), rate, 0.5, 64, methods.LPC.edge_guard)
  np.testing.assert_array_equal(after[keep], before[keep])
  assert not np.array_equal(after[~keep], before[~keep])


def test_file_write_rounds_to_the_subtype_and_does_not_clip_below_full_scale(tmp_path):
  x = np.array([[1 - 2.0**-23], [-1.0], [0.5 + 2.0**-24]])
  audio_file.write(str(tmp_path / 'a.wav'), audio_file.Audio(x, 16000, 'WAV', 'PCM_24'))
  y = audio_file.read(str(tmp_path / 'a.wav')).samples
  np.testing.assert_array_equal(y[:, 0], [1 - 2.0**-23, -1.0, 0.5])


# ---- case 2: file-system errors, checked before the work ----

def tone_file(path, rate=16000, seconds=1.0, channels=1):
  t = np.arange(int(rate * seconds)) / rate
  x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * channels, axis=1)
  soundfile.write(str(path), x, rate, subtype='PCM_16')


@pytest.fixture
def no_filling(monkeypatch):
  """Fails the test if a gap gets filled: refusals must come before the work."""
  def fail(*_):
    raise AssertionError('the gap was filled before the output was checked')
  monkeypatch.setattr(methods.LPC, 'fill_gap', fail)


def run_cli(args, capsys):
  rc = cli.main(args)
  err = capsys.readouterr().err.strip()
  return rc, err


def one_line(err):
  return len(err.splitlines()) == 1 and 'Traceback' not in err


@pytest.mark.parametrize('target, message', [
    ('missing/out.wav', 'does not exist'),
    ('folder', 'is a folder'),
])
def test_bad_output_paths(tmp_path, capsys, no_filling, target, message):
  tone_file(tmp_path / 'in.wav')
  (tmp_path / 'folder').mkdir()
  rc, err = run_cli(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / target), '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  assert rc == 2 and message in err and one_line(err)
  assert sorted(p.name for p in tmp_path.iterdir()) == ['folder', 'in.wav']
  assert not list((tmp_path / 'folder').iterdir())


def test_output_is_checked_before_the_model_is_loaded(tmp_path, capsys, monkeypatch):
  tone_file(tmp_path / 'in.wav')
  monkeypatch.setattr(methods.Network, '__init__',
                      lambda *a: pytest.fail('the model was loaded before the output was checked'))
  rc, err = run_cli(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'no' / 'o.wav'),
                     '--method', 'network', '--model', 'm.keras', '--gap', '0.5:64'], capsys)
  assert rc == 2 and 'does not exist' in err and one_line(err)


def test_read_only_folder(tmp_path, capsys, monkeypatch, no_filling):
  tone_file(tmp_path / 'in.wav')
  ro = tmp_path / 'ro'
  ro.mkdir()
  if os.geteuid() == 0:  # root writes anywhere: make the folder refuse new files instead
    real_open = os.open

    def refusing_open(path, *a, **k):
      if os.path.dirname(os.path.abspath(path)) == str(ro):
        raise PermissionError(errno.EACCES, 'Permission denied', path)
      return real_open(path, *a, **k)
    monkeypatch.setattr(atomic.os, 'open', refusing_open)
  else:
    ro.chmod(0o555)
  rc, err = run_cli(['inpaint', str(tmp_path / 'in.wav'), str(ro / 'out.wav'), '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  ro.chmod(0o755)
  assert rc == 2 and 'permission denied' in err and one_line(err)
  assert not list(ro.iterdir())


def test_disk_full_before_and_during_the_write(tmp_path, capfd, monkeypatch):
  """capfd: the line must reach file descriptor 2 (decoder chatter is silenced there)."""
  tone_file(tmp_path / 'in.wav')
  args = ['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'out.wav'), '--method', 'lpc',
          '--gap', '0.5:64']
  usage = atomic.shutil.disk_usage
  monkeypatch.setattr(atomic.shutil, 'disk_usage', lambda p: usage(p)._replace(free=1000))
  rc, err = run_cli(args, capfd)
  assert rc == 2 and 'not enough free space' in err and one_line(err)
  monkeypatch.setattr(atomic.shutil, 'disk_usage', usage)

  def full_disk(tmp, frames, *a):
    with open(tmp, 'wb') as f:
      f.write(b'partial')
      next(frames)  # the input is being read, block by block
    raise OSError(errno.ENOSPC, 'No space left on device')
  monkeypatch.setattr(audio_file, '_write_codes', full_disk)
  rc, err = run_cli(args, capfd)
  assert rc == 2 and 'the disk is full' in err and one_line(err)
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


FAILING_WRITE = """
import errno, sys
from audio_context_encoder.cli import main as cli
from audio_context_encoder.audio import audio_file
def full_disk(tmp, frames, *a):
  next(frames)  # reading the input, block by block, when the disk fills up
  raise OSError(errno.ENOSPC, 'No space left on device')
audio_file._write_codes = full_disk
sys.exit(cli.main(sys.argv[1:]))
"""


def test_write_error_reaches_the_terminal(tmp_path):
  """In a real process: the input's reader silences libmpg123 on fd 2 while it reads; the error
  line, printed while that reader is still open, must not be silenced with it."""
  tone_file(tmp_path / 'in.wav')
  r = subprocess.run([sys.executable, '-c', FAILING_WRITE, 'inpaint', str(tmp_path / 'in.wav'),
                      str(tmp_path / 'out.wav'), '--method', 'lpc', '--gap', '0.5:64'],
                     capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)),
                     timeout=120)
  assert r.returncode == 2 and 'the disk is full' in r.stderr and one_line(r.stderr.strip())
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


# ---- case 3: modes ----

@pytest.mark.parametrize('umask', [0o022, 0o027])
def test_new_output_follows_the_umask(tmp_path, umask):
  tone_file(tmp_path / 'in.wav')
  old = os.umask(umask)
  try:
    assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'out.wav'), '--method', 'lpc',
                     '--gap', '0.5:64']) == 0
  finally:
    os.umask(old)
  assert (tmp_path / 'out.wav').stat().st_mode & 0o777 == 0o666 & ~umask


def test_in_place_keeps_the_input_mode(tmp_path):
  path = tmp_path / 'in.wav'
  tone_file(path)
  path.chmod(0o640)
  assert cli.main(['inpaint', str(path), str(path), '--method', 'lpc', '--gap', '0.5:64']) == 0
  assert path.stat().st_mode & 0o777 == 0o640
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


# ---- case 4: gaps closer than the context ----

def test_adjacent_gaps_are_refused(tmp_path, capsys, no_filling):
  tone_file(tmp_path / 'in.wav', seconds=2.0)
  rc, err = run_cli(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'o.wav'), '--method', 'lpc',
                     '--gap', '1.2:64', '--gap', '1.264:64'], capsys)
  assert rc == 2 and 'must be at least 128 ms apart' in err and one_line(err)
  assert not (tmp_path / 'o.wav').exists()


@pytest.mark.parametrize('rate, apart_ms, ok', [(16000, 127, False), (16000, 128, True),
                                                (44100, 129, False), (44100, 131, True)])
def test_gap_spacing_rule(rate, apart_ms, ok):
  gaps = [inpaint.Gap(0.3, 0.064), inpaint.Gap(0.364 + apart_ms / 1000, 0.032)]
  x = np.random.default_rng(0).standard_normal((rate, 1)) * 0.1
  guard = methods.LPC.edge_guard
  fill = lambda x16, first, end: np.zeros(end - first)
  call = lambda: inpaint.inpaint_samples(x, rate, gaps, fill, 0, 2048, 64, edge_guard=guard)
  if ok:
    call()
  else:
    with pytest.raises(errors.UserError, match='apart'):
      call()


# ---- case 5: the output's extension names its format ----

def test_output_extension_names_the_format(tmp_path, capsys):
  tone_file(tmp_path / 'in.wav')
  args = lambda out: ['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / out), '--method', 'lpc',
                      '--gap', '0.5:64']
  assert cli.main(args('o.flac')) == 0
  info = soundfile.info(str(tmp_path / 'o.flac'))
  assert (info.format, info.subtype) == ('FLAC', 'PCM_16')
  keep = outside(16000, 16000, 0.5, 64, 0)
  np.testing.assert_array_equal(codes(tmp_path / 'o.flac')[keep], codes(tmp_path / 'in.wav')[keep])
  soundfile.write(str(tmp_path / 'm.mp3'), soundfile.read(str(tmp_path / 'in.wav'))[0], 16000)
  assert cli.main(args('o.wav')[:1] + [str(tmp_path / 'm.mp3')] + args('o.wav')[2:]) == 0
  info = soundfile.info(str(tmp_path / 'o.wav'))  # a lossy input to another format: its default
  assert (info.format, info.subtype) == ('WAV', 'PCM_16')
  soundfile.write(str(tmp_path / 'f.wav'), np.zeros((16000, 1)) + 0.1, 16000, subtype='FLOAT')
  for src, out, message in [('in.wav', 'o.xyz', 'cannot write .xyz'), ('in.wav', 'o', 'no extension'),
                            ('f.wav', 'o2.flac', 'FLAC cannot hold the input\'s FLOAT')]:
    rc, err = run_cli(['inpaint', str(tmp_path / src), str(tmp_path / out), '--method', 'lpc',
                       '--gap', '0.5:64'], capsys)
    assert rc == 2 and message in err and one_line(err)
    assert not (tmp_path / out).exists()


# ---- case 7: --detect-dropouts fills what it can ----

def test_detect_dropouts_fills_those_with_context(tmp_path, capsys):
  src, out = tmp_path / 'in.wav', tmp_path / 'out.wav'
  tone_file(src)
  x = soundfile.read(str(src), always_2d=True)[0]
  x[800:1200] = 0  # 50 ms in, not 128 ms of context before it
  x[8000:8400] = 0
  soundfile.write(str(src), x, 16000, subtype='PCM_16')
  assert cli.main(['inpaint', str(src), str(out), '--method', 'lpc', '--detect-dropouts']) == 0
  std = capsys.readouterr()
  assert 'dropout at 0.05s:25' in std.out and 'left as it is: gap' in std.out and 'filled 1 gap(s)' in std.out
  y = soundfile.read(str(out), always_2d=True)[0]
  assert np.abs(y[8000:8400]).max() > 0.1
  np.testing.assert_array_equal(y[:8000], x[:8000])


# ---- case 9 ----

def test_a_folder_as_input(tmp_path, capsys):
  rc, err = run_cli(['inpaint', str(tmp_path), str(tmp_path / 'o.wav'), '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  assert rc == 2 and 'is a folder, not an audio file' in err and one_line(err)


def test_corrupt_mp3_is_one_line_without_decoder_chatter(tmp_path, capfd):
  bad = tmp_path / 'bad.mp3'
  rng = np.random.default_rng(0)
  bad.write_bytes(b'ID3\x03\x00\x00\x00\x00\x00\x00' + rng.integers(0, 256, 5000, np.uint8).tobytes())
  assert cli.main(['inpaint', str(bad), str(tmp_path / 'o.mp3'), '--method', 'lpc', '--gap', '1:64']) == 2
  err = capfd.readouterr().err.strip()
  assert one_line(err) and 'cannot be read as audio' in err and 'pipe' not in err


def test_ctrl_c_is_one_line_exit_130_and_leaves_nothing(tmp_path, capfd, monkeypatch):
  tone_file(tmp_path / 'in.wav')
  args = ['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'out.wav'), '--method', 'lpc',
          '--gap', '0.5:64']

  def interrupted_write(tmp, frames, *a):
    with open(tmp, 'wb') as f:
      f.write(b'half a file')
      next(frames)
    raise KeyboardInterrupt
  monkeypatch.setattr(audio_file, '_write_codes', interrupted_write)
  rc, err = run_cli(args, capfd)
  assert rc == 130 and one_line(err) and 'interrupted' in err
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


def test_stale_temp_files_of_dead_runs_are_removed(tmp_path):
  tone_file(tmp_path / 'in.wav')
  dead = subprocess.Popen([sys.executable, '-c', 'pass'])
  dead.wait()
  stale = tmp_path / f'{atomic.PREFIX}{dead.pid}-abcd1234-out.wav'
  alive = tmp_path / f'{atomic.PREFIX}{os.getppid()}-abcd1234-out.wav'  # a run still going
  other = tmp_path / '.tmp-someone-else.wav'
  for p in (stale, alive, other):
    p.write_bytes(b'x' * 1000)
  assert cli.main(['inpaint', str(tmp_path / 'in.wav'), str(tmp_path / 'out.wav'), '--method', 'lpc',
                   '--gap', '0.5:64']) == 0
  assert not stale.exists() and alive.exists() and other.exists()


def test_memory_does_not_grow_with_the_file(tmp_path):
  """Only windows around the gaps are decoded and resampled: peak Python/numpy memory of a
  4x longer 44.1 kHz stereo file stays the same (whole-file resampling would grow 4x)."""
  import tracemalloc
  peaks = []
  for seconds in (10, 40):
    src = tmp_path / f'in{seconds}.wav'
    tone_file(src, rate=44100, seconds=seconds, channels=2)
    tracemalloc.start()
    assert cli.main(['inpaint', str(src), str(tmp_path / 'out.wav'), '--method', 'lpc',
                     '--gap', '5:64']) == 0
    peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
  size40 = 40 * 44100 * 2 * 8  # the 40 s file as float64
  print('tracemalloc peaks (10 s, 40 s):', peaks)
  assert peaks[1] < 1.2 * peaks[0] + 1e6 and peaks[1] < size40 / 10, peaks
