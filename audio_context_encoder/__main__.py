"""`python -m audio_context_encoder`: the command line of audio_context_encoder/cli/main.py."""

import sys

from audio_context_encoder.cli.main import main

if __name__ == '__main__':
  sys.exit(main())
