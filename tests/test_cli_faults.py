"""`inpaint` and `evaluate` under a tester's bad inputs (issue 19, items 12-18): what a run may
delete, signals, symbolic links, and messages that name the real problem."""

import errno
import os
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_file
from audio_context_encoder import methods

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tone_file(path, rate=16000, seconds=1.0, channels=1, subtype='PCM_16'):
  t = np.arange(int(rate * seconds)) / rate
  x = np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * channels, axis=1)
  soundfile.write(str(path), x, rate, subtype=subtype)


def run_cli(args, capsys):
  rc = cli.main([str(a) for a in args])
  return rc, capsys.readouterr().err.strip()


def one_line(err):
  return len(err.splitlines()) == 1 and 'Traceback' not in err


def dead_pid():
  p = subprocess.Popen([sys.executable, '-c', 'pass'])
  p.wait()
  return p.pid


@pytest.fixture
def no_filling(monkeypatch):
  """Fails the test if a gap gets filled: refusals must come before the work."""
  def fail(*_):
    raise AssertionError('the gap was filled before the input was checked')
  monkeypatch.setattr(methods.LPC, 'fill_gap', fail)


# ---- item 12: a run deletes only its own temp files ----

def test_an_input_named_like_a_stale_temp_file_is_read_not_deleted(tmp_path, capsys):
  src = tmp_path / f'{atomic.PREFIX}{dead_pid()}-abcd1234-in.wav'
  tone_file(src)
  stray = tmp_path / f'{atomic.PREFIX}{"9" * 20}-x.wav'  # not a pid: made every write crash
  stray.write_bytes(b'x')
  rc, err = run_cli(['inpaint', src, tmp_path / 'out.wav', '--method', 'lpc', '--gap', '0.5:64'],
                    capsys)
  assert rc == 0, err
  assert src.exists() and stray.exists() and (tmp_path / 'out.wav').exists()


# ---- item 13: SIGTERM and Ctrl-C ----

SLOW_WRITE = """
import sys, time
from audio_context_encoder.cli import main as cli
from audio_context_encoder.audio import audio_file
real = audio_file._write_codes
def slow(tmp, frames, *a):
  def trickle():
    for block in frames:
      yield block
      time.sleep(30)  # long enough for the test's SIGTERM
  real(tmp, trickle(), *a)
audio_file._write_codes = slow
sys.exit(cli.main(sys.argv[1:]))
"""


def temp_files(folder):
  return [p.name for p in folder.iterdir() if p.name.startswith(atomic.PREFIX)]


@pytest.mark.slow  # a subprocess
def test_sigterm_mid_write_is_one_line_and_leaves_no_temp_file(tmp_path):
  tone_file(tmp_path / 'in.wav', seconds=10.0, channels=2)  # several blocks
  proc = subprocess.Popen([sys.executable, '-c', SLOW_WRITE, 'inpaint', str(tmp_path / 'in.wav'),
                           str(tmp_path / 'out.wav'), '--method', 'lpc', '--gap', '5:64'],
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
  deadline = time.monotonic() + 60
  while not temp_files(tmp_path) and time.monotonic() < deadline:
    time.sleep(0.05)
  assert temp_files(tmp_path), 'the write never started'
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=30)
  assert proc.returncode == 143 and one_line(err.strip()) and 'terminated' in err, err
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


CTRL_C_AT_IMPORT = """
import builtins, os, runpy, signal
real = builtins.__import__
def hook(name, *a, **k):
  if name == 'scipy' or name.startswith('scipy.'):  # where the tester's Ctrl-C landed
    builtins.__import__ = real
    os.kill(os.getpid(), signal.SIGINT)
  return real(name, *a, **k)
builtins.__import__ = hook
runpy.run_module('audio_context_encoder', run_name='__main__')
"""


@pytest.mark.slow  # a subprocess
def test_ctrl_c_during_start_up_is_one_line(tmp_path):
  tone_file(tmp_path / 'in.wav')
  r = subprocess.run([sys.executable, '-c', CTRL_C_AT_IMPORT, 'inpaint', str(tmp_path / 'in.wav'),
                      str(tmp_path / 'out.wav'), '--method', 'lpc', '--gap', '0.5:64'],
                     capture_output=True, text=True, cwd=ROOT, timeout=120)
  assert r.returncode == 130 and one_line(r.stderr.strip()) and 'interrupted' in r.stderr, r.stderr
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


# ---- item 15: symbolic links are written through ----

def test_a_symlinked_output_is_written_through(tmp_path, capsys):
  tone_file(tmp_path / 'in.wav')
  (tmp_path / 'real').mkdir()
  target = tmp_path / 'real' / 'out.wav'
  target.write_bytes(b'old')
  link = tmp_path / 'out.wav'
  link.symlink_to(target)
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', link, '--method', 'lpc', '--gap', '0.5:64'], capsys)
  assert rc == 0, err
  assert link.is_symlink() and soundfile.info(str(target)).frames == 16000
  assert sorted(p.name for p in (tmp_path / 'real').iterdir()) == ['out.wav']


def test_in_place_through_a_link_updates_the_real_input(tmp_path, capsys):
  x = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)[:, None] * 0.3
  x[8000:9024] = 0
  real = tmp_path / 'real.wav'
  soundfile.write(str(real), x, 16000, subtype='PCM_16')
  link = tmp_path / 'link.wav'
  link.symlink_to(real)
  rc, err = run_cli(['inpaint', link, link, '--method', 'lpc', '--gap', '0.5:64'], capsys)
  assert rc == 0, err
  assert link.is_symlink()
  assert np.abs(soundfile.read(str(real))[0][8000:9024]).max() > 0.1


# ---- item 17: messages that name the problem ----

def test_a_fifo_input_is_named_as_such(tmp_path, capsys):
  fifo = tmp_path / 'in.wav'
  os.mkfifo(fifo)
  rc, err = run_cli(['inpaint', fifo, tmp_path / 'o.wav', '--method', 'lpc', '--gap', '0.5:64'], capsys)
  assert rc == 2 and one_line(err) and 'not a regular file' in err and 'no such file' not in err


def test_an_unreadable_input_says_permission_denied(tmp_path, capsys, monkeypatch):
  src = tmp_path / 'in.wav'
  tone_file(src)
  if os.geteuid() == 0:  # root reads anything: the file refuses to open instead
    def refusing_open(path, *a, **k):
      raise PermissionError(errno.EACCES, 'Permission denied', str(path))
    monkeypatch.setattr(audio_file, 'open', refusing_open, raising=False)
  else:
    src.chmod(0)
  rc, err = run_cli(['inpaint', src, tmp_path / 'o.wav', '--method', 'lpc', '--gap', '0.5:64'], capsys)
  assert rc == 2 and one_line(err) and 'permission denied' in err


FILE_SIZE_LIMIT = """
import resource, signal, sys
from audio_context_encoder.cli import main as cli
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (200000, 200000))
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow  # a subprocess
def test_libsndfile_write_failure_names_the_system_error(tmp_path):
  """A real failed write inside libsndfile (a file size limit: the same path as a full disk)
  is named by its errno, not 'libsndfile: System error.'."""
  tone_file(tmp_path / 'in.wav', seconds=20.0)  # 640 kB, over the limit
  r = subprocess.run([sys.executable, '-c', FILE_SIZE_LIMIT, 'inpaint', str(tmp_path / 'in.wav'),
                      str(tmp_path / 'out.wav'), '--method', 'lpc', '--gap', '5:64'],
                     capture_output=True, text=True, cwd=ROOT, timeout=120)
  assert r.returncode == 2 and one_line(r.stderr.strip()), r.stderr
  assert 'ulimit -f' in r.stderr and 'System error' not in r.stderr
  assert sorted(p.name for p in tmp_path.iterdir()) == ['in.wav']


def test_a_full_disk_inside_libsndfile_says_the_disk_is_full():
  """libsndfile reports ENOSPC as 'System error.'; the errno cffi kept names it."""
  import soundfile as sf
  sf._ffi.errno = errno.ENOSPC
  failure = audio_file._write_failure(RuntimeError('System error.'))
  assert failure.errno == errno.ENOSPC and atomic.describe(failure) == 'the disk is full'


def test_a_truncated_long_gap_network_is_named_as_damaged(tmp_path, capsys):
  tone_file(tmp_path / 'in.wav', seconds=2.0)
  shipped = methods.LONGGAP_MODELS['spec']
  bad = tmp_path / 'net.keras'
  bad.write_bytes(open(shipped, 'rb').read()[:5000])
  (tmp_path / 'net.json').write_bytes(open(shipped[:-len('.keras')] + '.json', 'rb').read())
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', tmp_path / 'o.wav', '--method', 'longgap-spec',
                     '--model', bad, '--gap', '1.0:200'], capsys)
  assert rc == 2 and one_line(err) and 'truncated' in err and 'not found' not in err.lower()


def test_evaluate_on_undecodable_files_does_not_blame_the_silence_rule(tmp_path, capsys):
  (tmp_path / 'a.wav').write_bytes(b'RIFF not audio')
  (tmp_path / 'b.flac').write_bytes(b'fLaC not audio')
  rc, err = run_cli(['evaluate', tmp_path, '--method', 'lpc'], capsys)
  assert rc == 2 and 'none of its 2 audio file(s) could be read' in err and 'silence' not in err


@pytest.mark.parametrize('gap, message', [
    ('-1.5:64', 'the start must be 0 s or later'),
    ('9' * 400 + ':64', 'beyond any audio file'),
    ('1.5:-64', 'the duration must be positive'),
])
def test_bad_gap_values_are_named(tmp_path, capsys, gap, message):
  tone_file(tmp_path / 'in.wav')
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', tmp_path / 'o.wav', '--method', 'lpc',
                     '--gap', gap], capsys)
  assert rc == 2 and one_line(err) and message in err


def test_nan_in_the_context_names_the_gap_as_given(tmp_path, capsys):
  x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)[:, None]
  x[15000] = np.nan
  soundfile.write(str(tmp_path / 'in.wav'), x, 16000, subtype='FLOAT')
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', tmp_path / 'o.wav', '--method', 'lpc',
                     '--gap', '1.0:64'], capsys)
  assert rc == 2 and one_line(err) and 'around the gap 1s:64ms holds NaN' in err


def test_nan_inside_the_gap_is_filled(tmp_path, capsys):
  """The gap's own samples are never read, so damage of any kind inside it is filled."""
  x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)[:, None]
  x[16100:16200] = np.nan
  soundfile.write(str(tmp_path / 'in.wav'), x, 16000, subtype='FLOAT')
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', tmp_path / 'o.wav', '--method', 'lpc',
                     '--gap', '1.0:64'], capsys)
  assert rc == 0, err
  assert np.all(np.isfinite(soundfile.read(str(tmp_path / 'o.wav'))[0]))


# ---- item 18 ----

def test_opus_is_written_as_opus_or_refused(tmp_path, capsys):
  tone_file(tmp_path / 'in48.wav', rate=48000)
  rc, err = run_cli(['inpaint', tmp_path / 'in48.wav', tmp_path / 'o.opus', '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  assert rc == 0, err
  assert soundfile.info(str(tmp_path / 'o.opus')).subtype == 'OPUS'
  tone_file(tmp_path / 'in44.wav', rate=44100)
  rc, err = run_cli(['inpaint', tmp_path / 'in44.wav', tmp_path / 'o44.opus', '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  assert rc == 2 and one_line(err) and 'Opus holds only' in err
  assert not (tmp_path / 'o44.opus').exists()


@pytest.mark.parametrize('n', ['0', '-3'])
def test_evaluate_refuses_max_segments_below_one(tmp_path, capsys, n):
  tone_file(tmp_path / 'a.wav')
  rc, err = run_cli(['evaluate', tmp_path, '--method', 'lpc', '--max-segments', n], capsys)
  assert rc == 2 and one_line(err) and '--max-segments' in err


def test_a_truncated_flac_is_refused_before_the_filling(tmp_path, capsys, no_filling):
  tone_file(tmp_path / 'full.flac', seconds=4.0)
  data = (tmp_path / 'full.flac').read_bytes()
  (tmp_path / 'in.flac').write_bytes(data[:len(data) // 2])
  rc, err = run_cli(['inpaint', tmp_path / 'in.flac', tmp_path / 'o.flac', '--method', 'lpc',
                     '--gap', '0.5:64'], capsys)
  assert rc == 2 and one_line(err) and 'cannot be read as audio' in err
  assert not (tmp_path / 'o.flac').exists()


@pytest.mark.parametrize('extra', [['--method', 'lpc'], ['--method', 'interp'], []])
def test_a_model_for_a_method_that_reads_none_is_refused(tmp_path, capsys, extra):
  tone_file(tmp_path / 'in.wav', seconds=2.0)
  gap = '1.0:300' if not extra else '1.0:64'  # no method: a long gap takes the long-gap default
  rc, err = run_cli(['inpaint', tmp_path / 'in.wav', tmp_path / 'o.wav', '--model', 'm.keras',
                     '--gap', gap] + extra, capsys)
  assert rc == 2 and one_line(err) and '--model is for --method network' in err and 'reads no model' in err
