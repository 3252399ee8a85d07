"""The perceptual score (ViSQOL v3) and the excerpt protocol (issue 20): what they measure, what
they are made of, and the commands that show them."""

import json
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from audio_context_encoder.cli import main as cli
from audio_context_encoder.evaluation import excerpts
from audio_context_encoder import methods
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import perceptual
from audio_context_encoder.config import DataConfig
from tests.test_data_build import ROOT
from tests.test_faults_builds import ENV
from tfrecords_tools import writer


@pytest.fixture(scope='module')
def glockenspiel():
  from audio_context_encoder.audio.audio_file import glockenspiel_16k
  return glockenspiel_16k()[:3 * excerpts.RATE].astype(np.float64)


@pytest.fixture(scope='module')
def audio_mode():
  return perceptual.Visqol('audio')


def test_visqol_orders_damage_as_a_listener_would(glockenspiel, audio_mode):
  """The original against itself is the ceiling; silence in the gaps scores lower; the gaps
  filled with the true samples plus a little noise lie between."""
  ex = excerpts.Excerpt('gspi', 0.0, glockenspiel)
  zeroed = ex.damaged()
  noisy = glockenspiel + np.where(zeroed == 0, 0.003, 0.0) * np.random.default_rng(0).standard_normal(
      len(glockenspiel))
  ceiling = audio_mode.score(glockenspiel, glockenspiel, excerpts.RATE)
  near = audio_mode.score(glockenspiel, noisy, excerpts.RATE)
  silent = audio_mode.score(glockenspiel, zeroed, excerpts.RATE)
  assert 1 <= silent < near < ceiling <= 5
  assert audio_mode.rate == 48000 and perceptual.Visqol('speech').rate == 16000


def test_paired_difference_and_its_standard_error():
  rng = np.random.default_rng(1)
  a, b = rng.normal(4.5, 0.1, 30), rng.normal(4.4, 0.1, 30)
  d = perceptual.paired(a, b)
  diffs = (a - b).tolist()
  assert d['mean'] == pytest.approx(statistics.fmean(diffs), abs=1e-12)
  assert d['se'] == pytest.approx(statistics.stdev(diffs) / math.sqrt(30), abs=1e-12)
  assert d['n'] == 30


def test_the_protocols_gaps_have_their_context(glockenspiel):
  p = excerpts.PROTOCOL
  spans = sorted((start, start + ms / 1000) for start, ms in p.gaps)
  assert spans[0][0] >= 0.128 and spans[-1][1] <= p.seconds - 0.128
  assert all(b[0] - a[1] >= 0.256 for a, b in zip(spans, spans[1:]))
  assert {ms for _, ms in p.gaps} == {64.0, 48.0}
  x = excerpts.Excerpt('gspi', 0.0, glockenspiel).damaged()
  assert np.count_nonzero(x == 0) >= (1024 + 768 + 1024)


def test_gap_snrs_against_the_papers_metrics(glockenspiel):
  rng = np.random.default_rng(2)
  y = glockenspiel + 0.01 * rng.standard_normal(len(glockenspiel))
  got = excerpts.gap_snrs(glockenspiel, y)
  spans = [(int(s * 16000), int(s * 16000) + int(ms * 16)) for s, ms in excerpts.PROTOCOL.gaps]
  ref = np.concatenate([glockenspiel[a:b] for a, b in spans])
  err = np.concatenate([(y - glockenspiel)[a:b] for a, b in spans])
  assert got['snr_td'] == pytest.approx(10 * np.log10(np.sum(ref ** 2) / np.sum(err ** 2)), abs=1e-9)
  zero = excerpts.gap_snrs(glockenspiel, excerpts.Excerpt('g', 0, glockenspiel).damaged())
  assert zero['snr_td'] == pytest.approx(0.0, abs=1e-12) and zero['snr_ms'] == pytest.approx(0.0, abs=1e-9)


def tracks(folder, n, seconds):
  folder.mkdir(parents=True, exist_ok=True)
  t = np.arange(int(seconds * 16000)) / 16000
  for i in range(n):
    x = 0.3 * np.sin(2 * np.pi * (220 + 55 * i) * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    sf.write(folder / f'track{i}.wav', x, 16000, subtype='PCM_16')
  return folder


def test_dataset_excerpts_are_the_tracks_own_audio_spread_over_all_of_them(tmp_path):
  """Put back together from the records' windows, an excerpt equals the track's samples (as
  the compact layout stores them); excerpts come from every track, not the first."""
  folder = tracks(tmp_path / 'in', 3, 7.0)
  items = [writer.TrackItem(p.stem, str(p), 'test') for p in sorted(folder.iterdir())]
  writer.build(items, tmp_path / 'ds', 'folder', data=DataConfig(), progress=False, processes=1)
  shown = excerpts.dataset_excerpts(str(tmp_path / 'ds'), 'test', 6)
  assert len(shown) == 6 and {e.source for e in shown} == {'track0', 'track1', 'track2'}
  for e in shown:
    x = sf.read(folder / f'{e.source}.wav', dtype='int16')[0].astype(np.float64) / 32768
    a = int(round(e.start_s * 16000))
    np.testing.assert_allclose(e.audio, x[a:a + excerpts.PROTOCOL.samples], atol=1 / 32768)


@pytest.mark.slow  # three methods on four excerpts, then the page
def test_evaluate_perceptual_and_listen(tmp_path, capsys):
  folder = tracks(tmp_path / 'mine', 2, 6.5)
  (folder / 'broken.wav').write_bytes(b'RIFF not audio')
  out = tmp_path / 'listen'
  assert cli.main(['evaluate', str(folder), '--method', 'lpc', '--compare', 'interp,masked',
                   '--perceptual', str(out), '--excerpts', '4']) == 0
  said = capsys.readouterr().out
  assert 'skipped:' in said and 'broken.wav' in said
  record = json.loads((out / 'mine' / 'excerpts.json').read_text())
  assert record['methods'] == ['zeroed', 'lpc', 'interp', 'masked'] and len(record['excerpts']) == 4
  assert '| lpc |' in said and 'original vs itself (ceiling)' in said
  zeroed, masked = (excerpts.scores_of(record, n) for n in ('zeroed', 'masked'))
  np.testing.assert_allclose(masked, zeroed, atol=1e-9)  # the same silence, scored alike
  (out / 'index.html').unlink()
  assert cli.main(['listen', str(out)]) == 0
  assert 'mine/000/original.wav' in (out / 'index.html').read_text()
  assert cli.main(['listen', str(tmp_path / 'mine')]) == 2
  assert 'no excerpt set' in capsys.readouterr().err


@pytest.mark.slow  # subprocesses
def test_tables_write_the_perceptual_table_and_page_then_reuse_them(tmp_path):
  folder = tracks(tmp_path / 'in', 2, 7.0)
  items = [writer.TrackItem(p.stem, str(p), 'test') for p in sorted(folder.iterdir())]
  writer.build(items, tmp_path / 'ds', 'folder', data=DataConfig(), progress=False, processes=1)
  cmd = [sys.executable, '-m', 'experiments.tables', f'--music_data={tmp_path / "ds"}',
         '--instruments_data=', '--tones=0', '--nofigures', '--noestimate', '--max_segments=16',
         '--perceptual_excerpts=3', '--methods=interp,lpc', f'--out_dir={tmp_path / "out"}']
  first = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
  assert first.returncode == 0, first.stderr[-2000:]
  text = (tmp_path / 'out' / 'perceptual.md').read_text()
  assert '## music (3 excerpts' in text and '| lpc |' in text and '| interp |' in text
  assert (tmp_path / 'out' / 'listen' / 'index.html').exists()
  again = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
  assert again.returncode == 0 and 'music perceptual: done before' in again.stdout
