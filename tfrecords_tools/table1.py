"""Table 1 of the paper (segments per split) for a built dataset, beside the paper's.

  python -m tfrecords_tools.table1 --data_dir=data/demo-music --data_dir=data/demo-instruments

Counts are read from the dataset's manifest.json: the segments kept by the 64 ms
gap-RMS filter (the paper's Table 1), with the 48 ms filter's count beside it.
"""

import sys

from absl import app, flags

from audio_context_encoder.common.errors import DatasetError
from audio_context_encoder.data.manifest import read_manifest

# Paper Table 1: (count, percentage) per split.
PAPER_TABLE1 = {
    'instruments': {'train': ('19.4M', 94.1), 'valid': ('0.9M', 4.4), 'test': ('0.3M', 1.5)},
    'music': {'train': ('5.2M', 70.0), 'valid': ('1.5M', 20.0), 'test': ('0.7M', 10.0)},
}
KIND = {'nsynth': 'instruments', 'demo-instruments': 'instruments'}
NAMES = {'train': 'training', 'valid': 'validation', 'test': 'testing'}


def _count(n: int) -> str:
  return f'{n / 1e6:.1f}M' if n >= 1e6 else f'{n:,}'


def format_table(manifest: dict, name: str) -> str:
  """Markdown table: ours (tracks, windows, kept 64 ms with %, kept 48 ms) and the paper's."""
  kind = KIND.get(manifest['source'], 'music')
  splits = manifest['splits']
  total64 = sum(s['kept_64'] for s in splits.values()) or 1
  total48 = sum(s['kept_48'] for s in splits.values()) or 1
  lines = [f'Table 1 for {name} (source {manifest["source"]}, layout {manifest["layout"]}); '
           f'paper: {kind}',
           '',
           '| set | tracks | audio kept (min) | windows | segments (64 ms gap RMS >= 1e-4) | % | '
           'segments (48 ms) | % | paper count | paper % |',
           '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for split in ('train', 'valid', 'test'):
    s = splits[split]
    pc, pp = PAPER_TABLE1[kind][split]
    lines.append(f'| {kind} {NAMES[split]} | {s["tracks"]} | {s["kept_seconds"] / 60:.1f} | '
                 f'{_count(s["windows"])} | {_count(s["kept_64"])} | '
                 f'{100 * s["kept_64"] / total64:.1f} | {_count(s["kept_48"])} | '
                 f'{100 * s["kept_48"] / total48:.1f} | {pc} | {pp:.1f} |')
  skipped = len(manifest.get('skipped_files', []))
  lines.append('')
  lines.append(f'{skipped} input files skipped; {manifest["bytes"] / 1e6:.1f} MB on disk.')
  return '\n'.join(lines)


def main(argv):
  del argv
  for d in flags.FLAGS.data_dir:
    try:
      print(format_table(read_manifest(d), d))
    except DatasetError as e:
      print(f'error: {e}', file=sys.stderr)
      return 1
    print()
  return 0


if __name__ == '__main__':
  # Flags are defined here only, so importing format_table defines none.
  flags.DEFINE_multi_string('data_dir', None, 'Dataset folder(s) with a manifest.json.')
  flags.mark_flag_as_required('data_dir')
  app.run(main)
