"""Command line: `python -m audio_context_encoder COMMAND ...`.

Commands:
  inpaint     fill gaps (or detected dropouts) in an audio file with a method (methods.names())
  evaluate    the paper's protocol (SNR_MS, SNR_TD) on every audio file of a folder
  selfcheck   check the installation (features vs ltfatpy, synthesis round trip)

Examples:
  python -m audio_context_encoder inpaint in.wav out.wav --gap 1.50:64 --gap 3.2:48 --method lpc
  python -m audio_context_encoder inpaint in.flac out.flac --detect-dropouts \\
      --method network --model runs/music/best.keras
  python -m audio_context_encoder evaluate my_music/ --method lpc --gap-ms 64 --json out.json
"""

import argparse
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from audio_context_encoder import atomic, audio_file, folder_evaluation, inpaint  # noqa: E402
from audio_context_encoder import methods, selfcheck  # noqa: E402
from audio_context_encoder.config import GAP_LENGTHS  # noqa: E402
from audio_context_encoder.errors import UserError, WriteError  # noqa: E402

METHOD_HELP = ('network: the context encoder; interp: border-frame magnitude interpolation (no '
               "training); lpc: the paper's LPC reference")
MODEL_HELP = ('.keras model written by training (for --method network; default: the shipped '
              'music network, models/small-music.keras)')


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='python -m audio_context_encoder', description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)
  commands.add_parser('selfcheck', help='check the installation')

  p = commands.add_parser('inpaint', help='fill gaps in an audio file')
  p.add_argument('input', help='audio file (wav, flac, ogg, mp3; any rate, any channels)')
  p.add_argument('output', help='where to write the result: the format its extension names, '
                 "the input's rate and sample format")
  p.add_argument('--gap', action='append', default=[], metavar='START_SECONDS:DURATION_MS',
                 help='a gap to fill, e.g. 1.5:64; repeat for several gaps')
  p.add_argument('--detect-dropouts', action='store_true',
                 help='also fill runs of digital silence (zeros in all channels) of up to 64 ms')
  p.add_argument('--method', choices=methods.names(), default='network', help=METHOD_HELP)
  p.add_argument('--model', help=MODEL_HELP)

  p = commands.add_parser('evaluate', help="the paper's evaluation on a folder of audio files")
  p.add_argument('folder', help='folder of audio files (searched recursively)')
  p.add_argument('--method', choices=methods.names(), default='lpc', help=METHOD_HELP)
  p.add_argument('--model', help=MODEL_HELP)
  p.add_argument('--gap-ms', type=int, choices=sorted(GAP_LENGTHS, reverse=True), default=64)
  p.add_argument('--max-segments', type=int, default=None)
  p.add_argument('--json', help='write the summary and per-segment values to this JSON file')
  return parser


def run_inpaint(args) -> int:
  gaps = [inpaint.parse_gap(g) for g in args.gap]
  if not gaps and not args.detect_dropouts:
    raise UserError('give at least one --gap START_SECONDS:DURATION_MS or --detect-dropouts')
  # Input, output folder and format first: loading a model takes seconds.
  src = audio_file.open_source(args.input)
  atomic.check_writable(args.output)
  audio_file.output_format(args.output, src.format, src.subtype)
  method = methods.get(args.method, model=args.model)
  done = inpaint.inpaint_file(args.input, args.output, gaps, method.fill_gap, method.zone,
                              method.context, method.max_ms, detect=args.detect_dropouts,
                              edge_guard=method.edge_guard)
  print(f'{args.output}: filled {len(done)} gap(s) with {args.method}: '
        + ', '.join(str(g) for g in done))
  if getattr(method, 'fallbacks', 0):
    print(f'note: {method.fallbacks} gap(s) had a silent or constant context; LPC fell back to '
          'a cross-fade of the context edges')
  return 0


def main(argv=None) -> int:
  args = build_parser().parse_args(argv)
  try:
    if args.command == 'selfcheck':
      return 0 if selfcheck.run() else 1
    if args.command == 'inpaint':
      return run_inpaint(args)
    if args.command == 'evaluate':
      return folder_evaluation.run(args)
  except (UserError, WriteError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  except KeyboardInterrupt:  # temp files are already removed (atomic.replacing)
    print('interrupted; nothing was written', file=sys.stderr)
    return 130
  return 2


if __name__ == '__main__':
  sys.exit(main())
