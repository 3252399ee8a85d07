"""What a fixed, untrained mix of the two baselines' gap magnitudes scores: the yardstick for
what the `--residual=lpc` network learns beyond weighting LPC against the context.

  python -m experiments.lpc_interp_mix --data_dir=data/demo-music --max_segments=1000

Magnitudes w * LPC's (network_inputs.lpc_gap_magnitude) + (1 - w) * the interpolation's, then
the paper's phase retrieval (methods.Magnitudes), on test segments taken at a fixed stride
(evaluation.evaluate_dataset). Prints SNR_MS, SNR_TD and the SNR of the magnitudes per weight.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app, flags  # noqa: E402
import numpy as np  # noqa: E402

from audio_context_encoder import config  # noqa: E402
from audio_context_encoder.evaluation import evaluation
from audio_context_encoder import methods
from audio_context_encoder.context_encoder import network_inputs

FLAGS = flags.FLAGS
flags.DEFINE_string('data_dir', 'data/demo-music', 'dataset folder')
flags.DEFINE_string('split', 'test', 'split to score')
flags.DEFINE_integer('max_segments', 1000, 'segments taken at a fixed stride (0 = all)')
flags.DEFINE_list('lpc_weights', ['0', '0.5', '1'], "weights w on LPC's magnitudes")


def mix_predictor(weight: float, sig):
  interp = methods.interpolation_predictor(sig)

  def predict(segments):
    lpc = network_inputs.lpc_gap_magnitude(np.asarray(segments, np.float32), sig).numpy()
    return weight * lpc + (1 - weight) * interp(segments)

  return predict


def main(argv):
  del argv
  sig = config.signal_config(64)
  for weight in map(float, FLAGS.lpc_weights):
    method = methods.Magnitudes(mix_predictor(weight, sig), sig)
    r = evaluation.evaluate_dataset(FLAGS.data_dir, FLAGS.split, method, 64,
                                    max_segments=FLAGS.max_segments, progress=False)
    print(f'{FLAGS.data_dir} {FLAGS.split}, {len(r["snr_ms"])} segments, 64 ms, '
          f'w = {weight:g}: SNR_MS {np.mean(r["snr_ms"]):.2f} dB, SNR_TD {np.mean(r["snr_td"]):.2f} '
          f'dB, magnitudes {np.mean(r["snr_mag"]):.2f} dB')


if __name__ == '__main__':
  app.run(main)
