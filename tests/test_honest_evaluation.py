"""Issue 9, honest evaluation: one summary for tables and `evaluate` (same numbers on the same
segments), short or unreadable files skipped and not counted, --json checked before the work."""

import csv
import json
import math
import os
import statistics
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder.evaluation import folder_evaluation
from audio_context_encoder.dsp import metrics
from audio_context_encoder.evaluation import paper_tables
from audio_context_encoder.config import DataConfig
from tfrecords_tools import writer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tones(folder, seconds=(0.9, 1.1), rate=16000):
  folder.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(3)
  for i, s in enumerate(seconds):
    t = np.arange(int(rate * s)) / rate
    x = 0.3 * np.sin(2 * np.pi * (250 + 90 * i) * t) + 0.02 * rng.standard_normal(len(t))
    soundfile.write(str(folder / f'tone{i}.wav'), x, rate, subtype='PCM_16')


def run_module(args, timeout=300):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  return subprocess.run([sys.executable, '-m'] + args, cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=timeout)


def independent_summary(values):
  """Mean and population std of the finite values, with the statistics module."""
  finite = [v for v in values if math.isfinite(v)]
  return statistics.fmean(finite), statistics.pstdev(finite), len(finite)


def test_evaluate_skips_short_and_unreadable_files(tmp_path, capsys):
  """Case 6 (a file under 320 ms aborted the folder) and case 9 ('from N files' counted skips)."""
  folder = tmp_path / 'music'
  tones(folder, seconds=(1.0,))
  soundfile.write(str(folder / 'short.wav'), np.full(3000, 0.2), 16000)  # 190 ms
  (folder / 'bad.wav').write_bytes(b'RIFF, but not audio')
  assert cli.main(['evaluate', str(folder), '--method', 'lpc']) == 0
  out = capsys.readouterr().out
  assert 'skipped:' in out and 'short.wav: shorter than one 320 ms window' in out
  assert 'bad.wav: cannot decode audio' in out
  assert 'from 1 of 1 files read (2 skipped)' in out


def test_evaluate_json_into_a_missing_folder_fails_first(tmp_path, capsys, monkeypatch):
  monkeypatch.setattr(folder_evaluation, 'evaluate_folder',
                      lambda *a, **k: pytest.fail('evaluated before checking --json'))
  tones(tmp_path / 'music', seconds=(1.0,))
  rc = cli.main(['evaluate', str(tmp_path / 'music'), '--json', str(tmp_path / 'no' / 'r.json')])
  err = capsys.readouterr().err.strip()
  assert rc == 2 and 'does not exist' in err and len(err.splitlines()) == 1


def test_table3_std_is_over_segments_of_the_mean_of_the_extensions():
  rng = np.random.default_rng(0)
  ext = {n: rng.normal(8, 3, 50) for n in ('forward', 'backward', 'centred')}
  per_segment = (ext['forward'] + ext['backward'] + ext['centred']) / 3
  out = {'snr_ms': per_segment, 'snr_td': per_segment, 'track_id': np.array(['a'] * 25 + ['b'] * 25),
         **{f'snr_ms_{n}': v for n, v in ext.items()}}
  s = paper_tables.summary(out)
  mean, std, n = independent_summary(per_segment.tolist())
  assert s['mean'] == pytest.approx(mean, abs=1e-12) and s['std'] == pytest.approx(std, abs=1e-12)
  assert s['std'] != pytest.approx(np.mean([np.std(v) for v in ext.values()]), abs=1e-3)
  assert (s['n'], s['tracks']) == (n, 2)
  s = metrics.summary([1.0, 3.0, math.inf, math.nan])
  assert (s['mean'], s['std'], s['n'], s['n_nonfinite']) == (2.0, 1.0, 2, 2)


@pytest.mark.slow
def test_cli_evaluate_and_tables_give_the_same_numbers(tmp_path):
  """The same windows through `evaluate` and `experiments.tables`: equal per-segment values
  and equal summaries, both equal to a mean/std computed here with the statistics module."""
  folder = tmp_path / 'music'
  tones(folder)
  items = [writer.TrackItem(p.name, str(p), 'test') for p in sorted(folder.iterdir())]
  writer.build(items, tmp_path / 'ds', 'folder', layout='float', data=DataConfig(), progress=False,
               processes=1)
  report = tmp_path / 'cli.json'
  assert cli.main(['evaluate', str(folder), '--method', 'lpc', '--json', str(report)]) == 0
  cli_result = json.loads(report.read_text())
  r = run_module(['experiments.tables', f'--music_data={tmp_path / "ds"}', '--instruments_data=',
                  f'--out_dir={tmp_path / "tables"}', '--tones=0', '--nofigures',
                  '--perceptual_excerpts=0', '--methods=interp,lpc'])
  assert r.returncode == 0, r.stderr[-2000:]
  with open(tmp_path / 'tables' / 'table2.csv') as f:
    row = next(x for x in csv.DictReader(f) if x['dataset'] == 'music' and x['method'] == 'lpc')
  with np.load(tmp_path / 'tables' / 'per_segment' / 'music_lpc_64ms_test.npz') as z:
    table_values = z['snr_ms']
  np.testing.assert_allclose(table_values, cli_result['segments']['snr_ms'], rtol=1e-9)
  mean, std, n = independent_summary(cli_result['segments']['snr_ms'])
  assert n > 20
  for got in ((float(row['snr_ms_mean']), float(row['snr_ms_std']), int(row['segments'])),
              (cli_result['summary']['snr_ms']['mean'], cli_result['summary']['snr_ms']['std'],
               cli_result['summary']['snr_ms']['n'])):
    assert got[0] == pytest.approx(mean, rel=1e-9) and got[1] == pytest.approx(std, rel=1e-9)
    assert got[2] == n
  assert int(row['tracks']) == 2 and cli_result['summary']['files'] == 2
  md = (tmp_path / 'tables' / 'table2.md').read_text()
  mean_line = next(line for line in md.splitlines() if line.startswith('| Mean (ours)'))
  assert f'| {mean:.1f} |' in mean_line and '| Tracks | — | 2 |' in md
