"""Command line: `audio-context-encoder COMMAND ...` (the console script `make` installs in
.venv/bin; `python -m audio_context_encoder` is the same).

Commands:
  inpaint     fill gaps (or detected dropouts) in an audio file with a method (methods.names())
  evaluate    the paper's protocol (SNR_MS, SNR_TD) on every audio file of a folder; with
              --perceptual DIR also the excerpt protocol (ViSQOL) and a listening page in DIR
  listen      (re)build the listening page of a folder of excerpt sets
  selfcheck   check the installation (features vs ltfatpy, synthesis round trip)

Examples:
  audio-context-encoder inpaint in.wav out.wav --gap 1.50:64 --gap 3.2:48 --method lpc
  audio-context-encoder inpaint in.flac out.flac --detect-dropouts \\
      --method network --model runs/demo-music/best.keras
  audio-context-encoder inpaint in.wav out.wav --gap 12.0:300 --method similarity
  audio-context-encoder inpaint in.wav out.wav --gap 2.0:200 --method longgap-spec
  audio-context-encoder evaluate my_music/ --method lpc --gap-ms 64 --json out.json
  audio-context-encoder evaluate my_music/ --method lpc --perceptual listen/ --excerpts 12
  audio-context-encoder listen results/demo/listen
"""

import argparse
import os
import re
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# Light: the heavy modules (numpy, scipy, the methods) are imported inside main(), so that a
# Ctrl-C or SIGTERM during start-up is one line too.
from audio_context_encoder.common.errors import Terminated, UserError, WriteError, sigterm_raises  # noqa: E402

MODEL_HELP = ('.keras model written by training (for --method network; default: the shipped '
              'music network, models/small-music.keras), or a long-gap network with its .json '
              'beside it (for --method longgap-spec|longgap-wave; default: '
              'models/longgap-spec-sc09.keras, models/longgap-wave-sc09.keras)')


def method_help() -> str:
  from audio_context_encoder import methods
  return ('up to 64 ms: network: the context encoder; interp: border-frame magnitude '
          "interpolation (no training); lpc: the paper's LPC reference. Any length up to "
          f'{methods.LONG_MAX_MS // 1000} s: longgap-lpc: LPC for long gaps; similarity: '
          'copies the best-matching part of the surroundings; deep-prior: a net fitted per '
          'gap (tens of minutes per gap); longgap-interp: interp over the whole gap; '
          'masked: zeros. Up to 500 ms, 250 ms of audio on both sides: longgap-spec, '
          "longgap-wave: Chang et al.'s spectrogram and waveform networks")


def build_parser() -> argparse.ArgumentParser:
  from audio_context_encoder import methods
  from audio_context_encoder.config import GAP_LENGTHS
  parser = argparse.ArgumentParser(prog='audio-context-encoder', description=__doc__,
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
  p.add_argument('--method', choices=methods.all_names(), default=None,
                 help=method_help() + '. Default: network, or for a gap longer than 64 ms the '
                 'best by ViSQOL on music at its length (' + ', '.join(
                     f'{name} up to {ms / 1000:g} s' for ms, name in methods.LONG_DEFAULTS)
                 + '; results/longgap_default.md)')
  p.add_argument('--model', help=MODEL_HELP)
  p.add_argument('--no-full-band', dest='full_band', action='store_false',
                 help='a file above 16 kHz: leave the band above 8 kHz of each gap silent, as the '
                 "16 kHz methods do (by default it is filled at the file's own rate, by gap-wise "
                 'Janssen; docs/janssen.md)')

  p = commands.add_parser('evaluate', help="the paper's evaluation on a folder of audio files")
  p.add_argument('folder', help='folder of audio files (searched recursively)')
  p.add_argument('--method', choices=methods.all_names(), default='lpc', help=method_help())
  p.add_argument('--model', help=MODEL_HELP)
  p.add_argument('--gap-ms', type=int, choices=sorted(GAP_LENGTHS, reverse=True), default=64)
  p.add_argument('--max-segments', type=int, default=None)
  p.add_argument('--json', help='write the summary and per-segment values to this JSON file')
  p.add_argument('--perceptual', metavar='DIR',
                 help='also score excerpts by ear-like ViSQOL (docs/perceptual.md): every method '
                 'of --compare, and --method, on the same excerpts; saved with a listening page '
                 'in DIR (DIR/index.html)')
  p.add_argument('--compare', default='interp,lpc',
                 help='with --perceptual: the other methods scored beside --method '
                 '(comma-separated; default interp,lpc)')
  p.add_argument('--excerpts', type=int, default=12,
                 help='with --perceptual: excerpts taken evenly over the files (default 12)')

  p = commands.add_parser('listen', help='(re)build the listening page of a folder of excerpt sets')
  p.add_argument('folder', help='a folder whose subfolders hold excerpts.json (written by make '
                 'tables, make demo or evaluate --perceptual), e.g. results/demo/listen')
  return parser


def run_inpaint(args) -> int:
  from audio_context_encoder.common import atomic
  from audio_context_encoder.audio import audio_file
  from audio_context_encoder.methods import inpaint
  from audio_context_encoder import methods
  gaps = [inpaint.parse_gap(g) for g in args.gap]
  if not gaps and not args.detect_dropouts:
    raise UserError('give at least one --gap START_SECONDS:DURATION_MS or --detect-dropouts')
  # Input, output folder and format first: loading a model takes seconds.
  src = audio_file.open_source(args.input)
  atomic.protect(args.input)  # never removed as a stale temp file, whatever its name
  atomic.check_writable(args.output)
  audio_file.output_format(args.output, src.format, src.subtype, src.sample_rate)
  short_ms = inpaint.SHORT_MS
  short = inpaint.longest(short_ms, src.sample_rate)
  is_long = lambda g: g.samples(src.sample_rate)[1] - g.samples(src.sample_rate)[0] > short
  longest_ms = max([1000 * g.duration for g in gaps if is_long(g)], default=0)
  # Without --method: the network for the paper's gaps, the measured default for longer ones.
  name = args.method or (methods.long_gap_default(longest_ms) if longest_ms else 'network')
  for g in gaps:  # before loading a model
    if is_long(g) and name not in methods.long_gap_names():
      raise UserError(f'{args.input}: gap {g} is longer than {short_ms} ms, the longest {name} '
                      'fills; for long gaps use --method ' + '|'.join(methods.long_gap_names()))
  methods.check_model(name, args.model, '' if args.method else
                      f' (the default for gaps longer than {short_ms} ms)')
  method = methods.get(name, model=args.model)
  done = inpaint.inpaint_file(args.input, args.output, gaps, method,
                              detect=args.detect_dropouts, full_band=args.full_band)
  print(f'{args.output}: filled {len(done)} gap(s) with {name}: '
        + ', '.join(str(g) for g in done))
  if method.fallbacks:
    print(f'note: {method.fallback_note()}')
  return 0


def gap_values_attached(argv):
  """`--gap -1.5:64` -> `--gap=-1.5:64`: argparse would take the value for an option and say
  'expected one argument'; attached, parse_gap names the problem."""
  out = list(argv)
  for i in range(len(out) - 1):
    if out[i] == '--gap' and re.match(r'-[0-9.]', out[i + 1]):
      out[i:i + 2] = [f'--gap={out[i + 1]}', None]
  return [a for a in out if a is not None]


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  try:
    with sigterm_raises():
      args = build_parser().parse_args(gap_values_attached(argv))
      if args.command == 'selfcheck':
        from audio_context_encoder.cli import selfcheck
        return 0 if selfcheck.run() else 1
      if args.command == 'inpaint':
        return run_inpaint(args)
      if args.command == 'evaluate':
        from audio_context_encoder.evaluation import folder_evaluation
        return folder_evaluation.run(args)
      if args.command == 'listen':
        from audio_context_encoder.evaluation import listening
        if not os.path.isdir(args.folder):
          raise UserError(f'{args.folder}: not a folder')
        try:
          print(f'wrote {listening.build(args.folder)}')
        except FileNotFoundError as e:
          raise UserError(str(e)) from None
        return 0
  except (UserError, WriteError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  except KeyboardInterrupt:  # temp files are already removed (atomic.replacing)
    print('interrupted; nothing was written', file=sys.stderr)
    return 130
  except Terminated:
    print('terminated (SIGTERM); nothing was written', file=sys.stderr)
    return 143
  return 2


if __name__ == '__main__':
  sys.exit(main())
