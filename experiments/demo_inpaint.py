"""The demo's last step: damage a test-split music excerpt, inpaint it with the CLI, plot it.

Writes to --out_dir: original.wav, damaged.wav (64 ms and 48 ms dropouts of digital
silence), inpainted_{network,interp,lpc}.wav, spectrograms.png, and prints the SNR over
each gap and over all gaps for every method. Uses exactly the user-facing command
(`python -m audio_context_encoder inpaint ... --detect-dropouts`).
"""

import os
import pathlib
import time

from absl import app, flags
import numpy as np
import soundfile

from audio_context_encoder.cli import main as cli
from audio_context_encoder.methods import inpaint
from audio_context_encoder.evaluation import plots
from audio_context_encoder.context_encoder import reader

FLAGS = flags.FLAGS
flags.DEFINE_string('data_dir', 'data/demo-music', 'Dataset whose test split supplies the excerpt.')
flags.DEFINE_string('audio_root', 'data/downloads/wesnoth-music', 'Where its source audio files are.')
flags.DEFINE_string('model', None, 'Trained magnitude network (.keras); default: the shipped one.')
flags.DEFINE_string('out_dir', 'results/demo', 'Output folder.')
flags.DEFINE_float('seconds', 4.0, 'Length of the excerpt.')
flags.DEFINE_list('gaps', ['0.7:64', '1.5:64', '2.3:48', '3.1:64'], 'Dropouts to punch, START_S:MS.')


METHODS = ('network', 'interp', 'lpc')  # the paper's two and the no-training baseline
LABELS = {'network': 'network', 'interp': 'interpolation', 'lpc': 'LPC'}


def gap_snr(x, y, spans):
  """SNR (dB) of y against x over the samples of all `spans` together."""
  ref = np.concatenate([x[a:b] for a, b in spans])
  err = np.concatenate([y[a:b] - x[a:b] for a, b in spans])
  return 10 * np.log10(np.sum(ref ** 2) / max(np.sum(err ** 2), 1e-20))


def test_excerpt(data_dir, audio_root, seconds):
  """(samples [n, ch], rate, name): the first test-split window's track, from its offset on."""
  batch = next(iter(reader.evaluation_dataset(data_dir, 'test', batch_size=1)))
  track = batch['track_id'].numpy()[0].decode()
  offset_s = int(batch['offset'].numpy()[0]) / 16000
  files = [p for p in pathlib.Path(audio_root).rglob('*') if p.stem == track]
  if not files:
    raise app.UsageError(f'{audio_root}: no audio file for test track {track!r}')
  info = soundfile.info(str(files[0]))
  start = int(offset_s * info.samplerate)
  x, rate = soundfile.read(str(files[0]), start=start, frames=int(seconds * info.samplerate),
                           always_2d=True)
  return x, rate, f'{track} from {offset_s:.1f} s'


def main(argv):
  del argv
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  out = lambda name: os.path.join(FLAGS.out_dir, name)
  x, rate, name = test_excerpt(FLAGS.data_dir, FLAGS.audio_root, FLAGS.seconds)
  soundfile.write(out('original.wav'), x, rate, subtype='PCM_16')
  x = soundfile.read(out('original.wav'), always_2d=True)[0]
  damaged = x.copy()
  gaps = [inpaint.parse_gap(g) for g in FLAGS.gaps]
  for g in gaps:
    a, b = g.samples(rate)
    damaged[a:b] = 0
  soundfile.write(out('damaged.wav'), damaged, rate, subtype='PCM_16')
  results = {}
  print(f'inpainting a {FLAGS.seconds:g} s excerpt of {name} ({rate} Hz, {x.shape[1]} channel(s), '
        f'{len(gaps)} dropouts) with {len(METHODS)} methods', flush=True)
  for i, method in enumerate(METHODS, 1):
    t0 = time.monotonic()
    path = out(f'inpainted_{method}.wav')
    args = ['inpaint', out('damaged.wav'), path, '--detect-dropouts', '--method', method]
    if method == 'network' and FLAGS.model:
      args += ['--model', FLAGS.model]
    print(f'[{i}/{len(METHODS)}] python -m audio_context_encoder ' + ' '.join(args), flush=True)
    if cli.main(args):
      raise SystemExit(f'inpainting with {method} failed')
    results[method] = soundfile.read(path, always_2d=True)[0]
    print(f'  {method}: {time.monotonic() - t0:.1f} s', flush=True)
  print(f'{name}, {rate} Hz, {x.shape[1]} channel(s); SNR over each gap (dB):')
  spans = [g.samples(rate) for g in gaps]
  for g, span in zip(gaps, spans):
    print(f'  {str(g):>12}: ' + '   '.join(f'{m} {gap_snr(x, y, [span]):6.2f}'
                                           for m, y in results.items()))
  print(f'  {"all gaps":>12}: ' + '   '.join(f'{m} {gap_snr(x, y, spans):6.2f}'
                                             for m, y in results.items()))
  mono = lambda s: s.mean(axis=1)
  marks = [t for g in gaps for t in (g.start, g.start + g.duration)]
  png = plots.save_spectrograms(
      [('original', mono(x)), ('damaged (digital-silence dropouts)', mono(damaged))]
      + [(f'inpainted: {LABELS[m]}, SNR over the gaps {gap_snr(x, y, spans):.1f} dB', mono(y))
         for m, y in results.items()],
      rate, out('spectrograms.png'), f'{name}: before and after inpainting', marks)
  print(f'wrote {FLAGS.out_dir}/{{original,damaged,inpainted_{{network,interp,lpc}}}}.wav and {png}')


if __name__ == '__main__':
  app.run(main)
