"""Command line: `python -m audio_context_encoder COMMAND ...`.

Commands:
  selfcheck   check the installation (features vs ltfatpy, synthesis round trip)
"""

import argparse
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='python -m audio_context_encoder', description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)
  commands.add_parser('selfcheck', help='check the installation')
  return parser


def main(argv=None) -> int:
  args = build_parser().parse_args(argv)
  if args.command == 'selfcheck':
    from audio_context_encoder import selfcheck
    return 0 if selfcheck.run() else 1
  return 2


if __name__ == '__main__':
  sys.exit(main())
