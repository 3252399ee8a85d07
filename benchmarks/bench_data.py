"""Dataset build rate (segments/s) and tf.data reader rate (examples/s) on the demo music.

Builds a subset of the Wesnoth stand-in (fetched into data/downloads if missing) in a
temporary folder with every layout, reads it back, and prints measured figures plus
estimates (labelled) of disk and time for FMA small and NSynth from them.
"""

import os
import pathlib
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import soundfile as sf  # noqa: E402

from audio_context_encoder.audio import audio_io  # noqa: E402
from audio_context_encoder import config
from audio_context_encoder.context_encoder import reader
from audio_context_encoder.data import segmenting
from audio_context_encoder.config import DataConfig  # noqa: E402
from tfrecords_tools import sources, writer  # noqa: E402

# Inputs per layout: whole Wesnoth tracks (OGG, 44.1 kHz stereo), FMA-like clips (30 s of
# them encoded here as 44.1 kHz stereo MP3, decoded by tensorflow-io like FMA) and NSynth-like
# notes (4 s, 16 kHz mono WAV, written here from the tonejs notes).
MUSIC_TRACKS = {'compact': 8, 'float': 8, 'full': 2}  # full computes STFTs: fewer tracks
FMA_CLIPS = {'compact': 16, 'float': 16, 'full': 4}
NOTES = {'compact': 400, 'full': 100}
# For the estimates: segments of the paper's Table 1 (train + valid + test) and seconds of
# input audio (FMA small: 8000 clips of 30 s; NSynth: 305,979 notes of 4 s).
PAPER_DATA = {'FMA small (music)': ('clips', 7.4e6, 8000 * 30.0),
              'NSynth (instruments)': ('notes', 20.6e6, 305979 * 4.0)}


def nsynth_like_notes(folder, n):
  """n notes of the tonejs sets as NSynth-like files: 4 s, 16 kHz, mono, 16-bit WAV."""
  root = sources.fetch_demo_instruments(pathlib.Path('data/downloads'))
  notes = sources.demo_instrument_items(root, (1.0, 0.0, 0.0), 0)[:n]
  folder.mkdir(parents=True, exist_ok=True)
  for i, item in enumerate(notes):
    x = segmenting.fit_note(audio_io.load(item.path), 64000)
    sf.write(folder / f'note{i:04d}.wav', x, 16000, subtype='PCM_16')
  return [writer.TrackItem(p.stem, str(p), 'train') for p in sorted(folder.glob('*.wav'))]


def fma_like_clips(folder, music, n):
  """The central 30 s of n Wesnoth tracks as 44.1 kHz stereo MP3 files, like FMA clips."""
  folder.mkdir(parents=True, exist_ok=True)
  for item in music[:n]:
    x, rate = sf.read(item.path, dtype='float32', always_2d=True)
    start = max(0, (len(x) - 30 * rate) // 2)
    sf.write(folder / f'{item.track_id}.mp3', x[start:start + 30 * rate], rate, format='MP3')
  return [writer.TrackItem(p.stem, str(p), 'train') for p in sorted(folder.glob('*.mp3'))]


def build_rate(items, out, layout, processes, per_shard):
  t0 = time.perf_counter()
  m = writer.build(items, out, 'bench', layout, DataConfig(), tracks_per_shard=per_shard,
                   processes=processes, progress=False)
  seconds = time.perf_counter() - t0
  records = sum(s['records'] for s in m['splits'].values())
  audio = sum(s['audio_seconds'] for s in m['splits'].values())
  return records, seconds, m['bytes'] / records, audio / seconds


def reader_rate(data_dir, cfg, batch_size, batches):
  ds = reader.training_dataset(data_dir, 'train', cfg, batch_size, seed=0)
  it = iter(ds)
  for _ in range(3):
    next(it)
  c0, t0 = time.process_time(), time.perf_counter()
  for _ in range(batches):
    next(it)
  wall, cpu = time.perf_counter() - t0, time.process_time() - c0
  return batches * batch_size / wall, cpu / (batches * batch_size)


def eval_rate(data_dir):
  t0 = time.perf_counter()
  n = sum(int(b['audio'].shape[0]) for b in reader.evaluation_dataset(data_dir, 'train', 64, 64))
  return n / (time.perf_counter() - t0)


def main():
  root = sources.fetch_demo_music(pathlib.Path('data/downloads'))
  music = sources.demo_music_items(root, (1.0, 0.0, 0.0), 0, None)
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
  print(f'{cores} cores, {cores} worker processes; build times include starting the workers')
  rates = {}
  with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    notes = nsynth_like_notes(tmp / 'notes-wav', max(NOTES.values()))
    clips = fma_like_clips(tmp / 'clips-mp3', music, max(FMA_CLIPS.values()))
    runs = [('music', layout, music[:n], 1) for layout, n in MUSIC_TRACKS.items()]
    runs += [('clips', layout, clips[:n], 2) for layout, n in FMA_CLIPS.items()]
    runs += [('notes', layout, notes[:n], 50) for layout, n in NOTES.items()]
    for kind, layout, items, per_shard in runs:
      records, seconds, per, audio_rate = build_rate(items, tmp / f'{kind}-{layout}', layout,
                                                     cores, per_shard)
      rates[kind, layout] = (audio_rate, per)
      what = {'music': 'whole Wesnoth OGG tracks', 'clips': '30 s 44.1 kHz MP3 clips',
              'notes': '4 s 16 kHz WAV notes'}[kind]
      print(f'  build {layout:7s} layout, {len(items):3d} {what}: {records:6d} segments in '
            f'{seconds:5.1f} s = {records / seconds:6.0f} segments/s '
            f'({audio_rate:4.0f} s of audio/s), {per / 1e3:5.1f} kB/segment')
    for name, preset, bs in [('small', 'small', 32), ('paper', 'paper', 256)]:
      cfg = config.get(preset)
      for layout in ('compact', 'full'):
        rate, cpu = reader_rate(tmp / f'music-{layout}', cfg, bs, 60 if bs == 32 else 10)
        print(f'  reader training_dataset, {layout:7s} layout, batch {bs:3d} ({name} preset): '
              f'{rate:6.0f} examples/s, {1e3 * cpu:.2f} CPU-ms/example')
    print(f'  reader evaluation_dataset, compact layout, batch 64: '
          f'{eval_rate(tmp / "music-compact"):6.0f} examples/s')
  print("ESTIMATES (not measured): disk = segments of the paper's Table 1 x kB/segment above; "
        'time = input audio / audio rate above')
  for name, (kind, n, audio) in PAPER_DATA.items():
    for layout in ('compact', 'float', 'full'):
      if (kind, layout) not in rates:
        continue
      rate, per = rates[kind, layout]
      print(f'  ESTIMATE {name:21s} {layout:7s}: {n * per / 1e9:5.0f} GB, '
            f'{audio / rate / 3600:5.1f} h to build on {cores} cores (downloads not included)')


if __name__ == '__main__':
  main()
