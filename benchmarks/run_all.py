"""Runs every benchmarks/bench_*.py in its own process (own thread settings) and prints its output.

`make bench` calls this; `make bench BENCH=features` runs only bench_features.py.
"""

import pathlib
import subprocess
import sys


def main(argv):
  here = pathlib.Path(__file__).parent
  names = argv[1:] or sorted(p.stem[len('bench_'):] for p in here.glob('bench_*.py'))
  failed = []
  for name in names:
    print(f'=== bench_{name} ===', flush=True)
    rc = subprocess.call([sys.executable, '-m', f'benchmarks.bench_{name}'])
    if rc:
      failed.append(name)
  if failed:
    print(f'failed benchmarks: {", ".join(failed)}', file=sys.stderr)
    return 1
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv))
