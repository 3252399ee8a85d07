"""experiments/longgap/score.py on a tiny built dataset: every baseline row, measured figures."""

import numpy as np

from audio_context_encoder.longgap import config
from experiments.longgap import score as longgap_table
from tfrecords_tools import longgap_dataset


def test_table_end_to_end(tmp_path):
  t = np.arange(16000) / 16000
  items = [longgap_dataset.ClipItem('test', 'seven', f'spk{i}', 'synthetic', f'c{i}',
                                    (lambda f: lambda: 0.3 * np.sin(2 * np.pi * f * t))(300 + 50 * i))
           for i in range(3)]
  items.append(longgap_dataset.ClipItem('test', 'zero', 'spk9', 'synthetic', 'silent',
                                        lambda: np.zeros(16000)))
  longgap_dataset.write(items, tmp_path / 'd', config.SC09, 'unit')
  out = tmp_path / 'r.md'
  from absl import flags
  flags.FLAGS(['prog', f'--dataset_dir={tmp_path / "d"}', '--max_clips=2', '--deep_prior_clips=0',
               f'--out_file={out}', '--lpc_order=200'])
  try:
    assert longgap_table.main([]) == 0
  finally:
    flags.FLAGS.unparse_flags()
  text = out.read_text()
  assert '4 clips, 1 left out' in text  # the silent gap
  for name in ('Masked input', 'Griffin-Lim GT', 'LPC', 'Similarity graph'):
    row = next(l for l in text.splitlines() if l.startswith(f'| {name}'))
    assert '| 2 |' in row
  masked = next(l for l in text.splitlines() if l.startswith('| Masked input'))
  assert '| 0.0000 ± 0.0000 | 0.0000 ± 0.0000 |' in masked  # 0 dB SNRs: the paper's first row


def test_table_adds_the_perceptual_distances(tmp_path):
  """--classifiers_dir: one column per saved classifier (untrained tiny ones here)."""
  import dataclasses
  import json
  from audio_context_encoder.longgap import classifiers
  from audio_context_encoder.longgap import classifier_training as trainer
  t = np.arange(16000) / 16000
  items = [longgap_dataset.ClipItem('test', 'one', f's{i}', 'synthetic', f'c{i}',
                                    (lambda f: lambda: 0.3 * np.sin(2 * np.pi * f * t))(400 + 90 * i))
           for i in range(2)]
  longgap_dataset.write(items, tmp_path / 'd', config.SC09, 'unit')
  clf = tmp_path / 'clf'
  clf.mkdir()
  for kind in trainer.KINDS:
    trainer.save_model(trainer.build(kind, 16000, 2, classifiers.TINY), clf / f'{kind}.keras')
    (clf / f'{kind}.json').write_text(json.dumps({'config': dataclasses.asdict(classifiers.TINY)}))
  out = tmp_path / 'r.md'
  from absl import flags
  flags.FLAGS(['prog', f'--dataset_dir={tmp_path / "d"}', '--max_clips=2', '--deep_prior_clips=0',
               f'--out_file={out}', '--lpc_order=50', f'--classifiers_dir={clf}'])
  try:
    assert longgap_table.main([]) == 0
  finally:
    flags.FLAGS.unparse_flags()
  lines = out.read_text().splitlines()
  header = next(l for l in lines if l.startswith('| method'))
  assert 'PD wave ↓' in header and 'PD spec ↓' in header
  masked = next(l for l in lines if l.startswith('| Masked input')).split('|')
  assert len(masked) == len(header.split('|'))
  assert float(masked[7].split('±')[0]) > 0  # the waveform PD of the masked input
