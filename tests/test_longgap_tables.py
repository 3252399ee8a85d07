"""experiments/longgap/tables.py on tiny built folders with tiny saved networks and classifiers:
every file written, every row present, finite numbers where defined, and "none given" cells
where no network or classifier was given (here: for the ESC-50-like folder)."""

import csv
import dataclasses
import json

import numpy as np
import pytest
from absl import flags

from audio_context_encoder.longgap import classifiers
from audio_context_encoder.longgap import config
from audio_context_encoder.longgap import classifier_training as trainer
from audio_context_encoder.evaluation import longgap_report as report
from experiments.longgap import tables as longgap_tables
from tests.test_longgap_trained import save as save_network
from tests.test_longgap_models import TINY_SPEC, TINY_WAVE
from tfrecords_tools import longgap_dataset


def tones(protocol, n, f0):
  t = np.arange(protocol.clip_samples) / protocol.sample_rate
  return [longgap_dataset.ClipItem('test', str(i), f'g{i}', 'synthetic', f'c{i}',
                                   load=lambda f=f0 + 70 * i: 0.3 * np.sin(2 * np.pi * f * t))
          for i in range(n)]


@pytest.fixture(scope='module')
def outputs(tmp_path_factory):
  root = tmp_path_factory.mktemp('tables')
  longgap_dataset.write(tones(config.SC09, 3, 300), root / 'sc09', config.SC09, 'unit')
  longgap_dataset.write(tones(config.ESC50, 1, 500), root / 'esc50', config.ESC50, 'unit')
  spec, _ = save_network(root, 'spec', TINY_SPEC)
  wave, _ = save_network(root, 'wave', TINY_WAVE)
  (root / 'interp').mkdir()
  interp, _ = save_network(root / 'interp', 'spec', dataclasses.replace(TINY_SPEC, baseline='interp'))
  for kind in trainer.KINDS:
    path = root / f'clf-{kind}.keras'
    trainer.save_model(trainer.build(kind, 16000, 2, classifiers.TINY), path)
    path.with_suffix('.json').write_text(json.dumps(
        {'kind': kind, 'test_accuracy': 0.5, 'best_valid_accuracy': 0.5, 'epochs_run': 1,
         'best_epoch': 1, 'train_seconds': 1.0, 'params': 10, 'command': 'unit',
         'config': dataclasses.asdict(classifiers.TINY)}))
  flags.FLAGS(['prog', f'--lgt_sc09_data={root / "sc09"}', f'--lgt_esc50_data={root / "esc50"}',
               f'--lgt_spec_model={spec}', f'--lgt_wave_model={wave}',
               f'--lgt_spec_interp_model={interp}', '--lgt_esc50_spec_model=',
               '--lgt_esc50_wave_model=', '--lgt_esc50_spec_interp_model=',
               '--lgt_esc50_classifier_wave=', '--lgt_esc50_classifier_spec=',
               f'--lgt_classifier_wave={root / "clf-wave.keras"}',
               f'--lgt_classifier_spec={root / "clf-spec.keras"}', '--lgt_dp_sc09_clips=0',
               '--lgt_dp_esc50_clips=0', '--lgt_dp_iterations=2', '--lgt_lpc_order=50',
               '--lgt_gl_iterations=2', '--lgt_mask_seconds=0.1,0.3', '--lgt_ablation_clips=2',
               f'--lgt_out_dir={root / "out"}', '--lgt_tag=unit'])
  try:
    assert longgap_tables.main([]) == 0
  finally:
    flags.FLAGS.unparse_flags()
  return root / 'out'


def rows(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def test_every_file_is_written(outputs):
  names = {p.name for p in outputs.iterdir()}
  assert names == {'longgap_tables_unit.md', 'longgap_table1_unit.csv', 'longgap_table2_unit.csv',
                   'longgap_table3_unit.csv', 'longgap_figure3_unit.png', 'longgap_unit'}
  listen = outputs / 'longgap_unit' / 'listen'
  page = (listen / 'index.html').read_text()
  for d in ('sc09', 'esc50'):  # a section per stand-in, the masked input and LPC in each
    record = json.loads((listen / d / 'excerpts.json').read_text())
    assert record['methods'][0] == 'zeroed' and 'lpc' in record['methods']
    assert f'{d}/000/lpc.wav' in page and (listen / d / '000' / 'lpc.wav').exists()
  text = (outputs / 'longgap_tables_unit.md').read_text()
  for part in ('## Table 1', '## Table 2', '## Table 3', 'Wall time:', '--lgt_dp_iterations=2'):
    assert part in text


def test_table2_has_every_row_with_finite_numbers_or_a_reason(outputs):
  table = rows(outputs / 'longgap_table2_unit.csv')
  sc09 = {r['method']: r for r in table if r['dataset'] == 'sc09'}
  esc50 = {r['method']: r for r in table if r['dataset'] == 'esc50'}
  nets = set(report.NETWORK_NAMES.values())
  base = {'Masked input', 'Griffin-Lim GT (oracle)', 'LPC (Burg, both sides)',
          'Similarity graph (simplified)'}
  assert base | nets | {'WaveGlow'} <= set(sc09)
  assert base | nets | {'GMCNN'} <= set(esc50)
  for name in base | nets:
    for col in ('ML1 mean', 'SSIM mean', 'PD wave mean', 'PD spec mean'):
      assert np.isfinite(float(sc09[name][col])), (name, col)
  start = report.NETWORK_NAMES['spec_interp']  # a baseline: it needs no file
  for name in nets - {start}:
    assert esc50[name]['ML1 mean'] == report.NOT_GIVEN
  assert esc50['Masked input']['PD wave mean'] == report.NOT_GIVEN  # no ESC-50 classifier given
  assert np.isfinite(float(esc50['Masked input']['ML1 mean']))
  assert np.isfinite(float(esc50[start]['ML1 mean']))
  assert sc09['Masked input']['paper ML1'] == '0.0111'
  assert sc09['WaveGlow']['ML1 mean'] == report.NOT_IMPLEMENTED


def test_tables_1_and_3(outputs):
  t1 = rows(outputs / 'longgap_table1_unit.csv')
  assert [r['source'] for r in t1].count('paper') == 10
  assert {r['test accuracy'] for r in t1 if r['source'] == 'ours'} == {'0.500', report.NOT_GIVEN}
  t3 = rows(outputs / 'longgap_table3_unit.csv')
  assert [(r['network'], r['mask s']) for r in t3] == [
      (report.NETWORK_NAMES[k], s) for k in ('ours_spec gl', 'ours_wave') for s in ('0.1', '0.3')]
  for r in t3:
    assert np.isfinite(float(r['ML1 mean'])) and int(r['receptive field']) > 0
