"""Sharded, multi-process, resumable TFRecord writer.

A dataset folder holds `{split}-SSSSS-of-NNNNN.tfrecord` shards and `manifest.json`.
Each record is one 320 ms window plus a 256-sample margin on each side (5632 samples):

  audio       bytes: int16 little-endian ('compact', the default) or float32 ('float', 'full')
  track_id    bytes
  offset      int64: index in the 16 kHz track of the first of the 5120 central samples
  gap_rms_64  float: RMS of the centred 64 ms gap; gap_rms_48 likewise for 48 ms
  context     ('full' only) float32 bytes [16, 257, 4]: features.context_features, 64 ms layout
  target      ('full' only) float32 bytes [11, 257]: features.gap_magnitude, 64 ms layout

Shards are planned from the sorted track list (a fixed number of tracks each), so a
shard's bytes depend only on its tracks and the settings. A shard is written under a
hidden temporary name and renamed when complete, after its counts, size and SHA-256 and
its input files' sizes and modification times were saved in `.progress/`; a re-run skips
a finished shard only while all of these still match (a damaged shard, or a changed input
file under the same name, is written again), so a killed build resumes and ends with the
same bytes as an uninterrupted one. Files that cannot be decoded are reported by name and
skipped; the rest of their shard is written. Worker processes die with the build
(compute.worker_pool); SIGTERM and Ctrl-C stop them and keep the finished shards.
"""

import dataclasses
import errno
import hashlib
import json
import os
import pathlib
import shutil
import sys
import time
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from audio_context_encoder.common import atomic
from audio_context_encoder.audio import audio_io
from audio_context_encoder.common import compute
from audio_context_encoder import config
from audio_context_encoder.data import segmenting
from audio_context_encoder.config import DataConfig
from audio_context_encoder.common.errors import AudioDecodeError
from tfrecords_tools.splits import SPLITS

LAYOUTS = ('compact', 'float', 'full')
L = 5120
SAMPLE_RATE = 16000


class BuildError(Exception):
  """A user-facing problem with a build (message names the folder or file)."""


@dataclasses.dataclass(frozen=True)
class TrackItem:
  """One input file and where it goes."""

  track_id: str
  path: str
  split: str
  note_seconds: Optional[float] = None  # cut/pad to this length first (NSynth-like notes)
  max_seconds: Optional[float] = None  # keep only the central part after trimming (demo music)


def shard_name(split: str, index: int, count: int) -> str:
  return f'{split}-{index:05d}-of-{count:05d}.tfrecord'


def plan_shards(items: Sequence[TrackItem], tracks_per_shard: int) -> List[dict]:
  """Jobs {name, split, items}: per split, tracks sorted by id, `tracks_per_shard` each."""
  if tracks_per_shard < 1:
    raise BuildError(f'tracks_per_shard must be >= 1, got {tracks_per_shard}')
  jobs = []
  for split in SPLITS:
    mine = sorted((i for i in items if i.split == split), key=lambda i: i.track_id)
    count = -(-len(mine) // tracks_per_shard)
    for k in range(count):
      chunk = mine[k * tracks_per_shard:(k + 1) * tracks_per_shard]
      jobs.append({'name': shard_name(split, k, count), 'split': split,
                   'items': [dataclasses.asdict(i) for i in chunk]})
  return jobs


def to_int16(x: np.ndarray) -> np.ndarray:
  """float in [-1, 1) -> int16 (x * 32768, rounded, clipped); the reader divides by 32768."""
  return np.clip(np.round(x * 32768.0), -32768, 32767).astype('<i2')


def _example(tf, audio_bytes, track_id, offset, r64, r48, extra=None):
  f = tf.train.Feature
  feats = {
      'audio': f(bytes_list=tf.train.BytesList(value=[audio_bytes])),
      'track_id': f(bytes_list=tf.train.BytesList(value=[track_id.encode('utf-8')])),
      'offset': f(int64_list=tf.train.Int64List(value=[int(offset)])),
      'gap_rms_64': f(float_list=tf.train.FloatList(value=[float(r64)])),
      'gap_rms_48': f(float_list=tf.train.FloatList(value=[float(r48)])),
  }
  for k, v in (extra or {}).items():
    feats[k] = f(bytes_list=tf.train.BytesList(value=[v]))
  return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()


def _full_features(windows, margin):
  """64 ms context and magnitude target of the central 5120 samples (features.py)."""
  from audio_context_encoder.context_encoder import features  # TensorFlow: only the 'full' layout needs it
  sig = config.signal_config(64)
  seg = windows[:, margin:margin + L].astype(np.float32)
  return (features.context_features(seg, sig).numpy().astype('<f4'),
          features.gap_magnitude(seg, sig).numpy().astype('<f4'))


def load_track(item: TrackItem) -> np.ndarray:
  x = audio_io.load(item.path, SAMPLE_RATE)
  if item.note_seconds:
    x = segmenting.fit_note(x, int(round(item.note_seconds * SAMPLE_RATE)))
  return x


def write_shard(job: dict, tracks: Optional[Iterable['TrackRecords']] = None) -> dict:
  """Writes one shard (temp then rename) and returns its counts and skipped files.

  `tracks`: the job's tracks already made into records (the Beam pipeline makes them on other
  workers), in the job's order; by default they are made here, one at a time."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf  # heavy: loaded in the worker process that writes, not by the parent
  out = pathlib.Path(job['out'])
  if tracks is None:
    tracks = (track_records(job, d) for d in job['items'])
  stats = {'name': job['name'], 'split': job['split'], 'tracks': 0, 'windows': 0,
           'kept_64': 0, 'kept_48': 0, 'records': 0, 'skipped': [], 'warnings': [],
           'seconds': 0.0, 'kept_seconds': 0.0, 'inputs': input_stamps(job['items'])}
  t0 = time.perf_counter()
  try:
    _write_records(tf, out, job, tracks, stats, t0)
  except tf.errors.OpError as e:  # TFRecordWriter: a full disk is ResourceExhaustedError
    code = errno.ENOSPC if isinstance(e, tf.errors.ResourceExhaustedError) else errno.EIO
    raise atomic.WriteError(f'{out / job["name"]}: cannot write '
                            f'({atomic.describe(OSError(code, e.message.splitlines()[0]))})') from None
  return stats


@dataclasses.dataclass
class TrackRecords:
  """One track's serialised records and counts, or why it was skipped: the unit of work that
  both the local builder and the Beam pipeline make from a track and a shard appends. `records`
  is made as the writer reads it (the Beam pipeline makes it a list to send it on)."""

  records: Iterable[bytes]
  counts: dict  # tracks, seconds, kept_seconds, windows, kept_64, kept_48, records
  skipped: Optional[str] = None
  warning: Optional[str] = None


def track_records(job: dict, item_dict: dict) -> TrackRecords:
  """Decode one track of a shard job, cut its §3.2 windows and serialise them."""
  import tensorflow as tf
  item = TrackItem(**item_dict)
  data = DataConfig(**job['data'])
  layout, margin = job['layout'], job['margin']
  try:
    x = load_track(item)
    max_len = int(round(item.max_seconds * SAMPLE_RATE)) if item.max_seconds else None
    seg = segmenting.segment_track(x, L, data, max_len)
  except AudioDecodeError as e:
    return TrackRecords([], {}, skipped=str(e))
  except Exception as e:  # report, skip the file, keep the run going
    return TrackRecords([], {}, skipped=f'{item.path}: {type(e).__name__}: {e}')
  thr = data.gap_rms_threshold
  counts = {'tracks': 1, 'seconds': len(x) / SAMPLE_RATE,
            'kept_seconds': (seg.trimmed[1] - seg.trimmed[0]) / SAMPLE_RATE,
            'windows': seg.n_windows, 'kept_64': int(np.sum(seg.rms_64 >= thr)),
            'kept_48': int(np.sum(seg.rms_48 >= thr)), 'records': len(seg.offsets)}
  def serialised():  # 1024 windows at a time: a long track is never in memory as records at once
    for i in range(0, len(seg.offsets), 1024):
      offs = seg.offsets[i:i + 1024]
      windows = segmenting.extract(x, offs, L, margin)
      extra = [None] * len(offs)
      if layout == 'full':
        ctx, tgt = _full_features(windows, margin)
        extra = [{'context': c.tobytes(), 'target': t.tobytes()} for c, t in zip(ctx, tgt)]
      audio = to_int16(windows) if layout == 'compact' else windows.astype('<f4')
      for j, o in enumerate(offs):
        yield _example(tf, audio[j].tobytes(), item.track_id, o, seg.rms_64[i + j],
                       seg.rms_48[i + j], extra[j])

  return TrackRecords(serialised(), counts, warning=audio_io.damage_note(item.path))


def input_stamps(items) -> list:
  """[path, size, modification time] of a shard's input files: a re-run writes the shard again
  when one of them changed under the same name."""
  stamps = []
  for d in items:
    try:
      st = os.stat(d['path'])
      stamps.append([d['path'], st.st_size, st.st_mtime_ns])
    except OSError:
      stamps.append([d['path'], None, None])
  return stamps


def shard_digest(path, chunk: int = 1 << 20) -> str:
  h = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(chunk), b''):
      h.update(block)
  return h.hexdigest()


def _write_records(tf, out, job, tracks, stats, t0):
  """write_shard's work: the job's tracks, in order, into one shard (temp name, then renamed)."""
  with atomic.replacing(str(out / job['name'])) as tmp, tf.io.TFRecordWriter(tmp) as w:
    for track in tracks:
      if track.skipped:
        stats['skipped'].append(track.skipped)
        continue
      if track.warning:
        stats['warnings'].append(track.warning)
      for key, value in track.counts.items():
        stats[key] += value
      for record in track.records:
        w.write(record)
    w.flush()
    w.close()
    stats['build_seconds'] = time.perf_counter() - t0
    stats['bytes'], stats['sha256'] = os.path.getsize(tmp), shard_digest(tmp)
    # The counts first, then (leaving the with) the shard: a shard on disk always has its counts.
    atomic.write_json(str(out / '.progress' / f'{job["name"]}.json'), stats)


def _done(out: pathlib.Path, job: dict) -> Optional[dict]:
  """The saved counts of a finished shard that is still what was written (size, SHA-256) from
  the same input files (size, modification time); None: write it (again)."""
  name = job['name']
  progress = out / '.progress' / f'{name}.json'
  shard = out / name
  if not (shard.exists() and progress.exists()):
    return None
  try:
    stats = json.loads(progress.read_text())
  except (OSError, ValueError):
    return None
  if stats.get('inputs') is not None and stats['inputs'] != input_stamps(job['items']):
    return None
  if 'sha256' not in stats:  # written before shards were hashed: hashed now, as it is
    stats['bytes'], stats['sha256'] = shard.stat().st_size, shard_digest(shard)
    atomic.write_json(str(progress), stats)
  if shard.stat().st_size != stats['bytes'] or shard_digest(shard) != stats['sha256']:
    return None
  return stats


def _check_settings(out: pathlib.Path, settings: dict) -> bool:
  """True when `out` was started with these settings (its finished shards may be kept), False
  when it has none yet; refused when it was started with others."""
  path = out / '.progress' / 'settings.json'
  if not path.exists():
    return False
  try:
    old = json.loads(path.read_text())
  except (OSError, ValueError):
    raise BuildError(f'{path}: damaged; use another --out folder or delete this one') from None
  if old != settings:
    diff = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
    raise BuildError(f'{out}: was started with different settings ({", ".join(diff)}); '
                     'use another --out folder or delete this one')
  return True


# Bytes of one record on disk (measured: README "disk per segment") and windows per second of
# audio (one every 32 ms): the free-space check before a build.
RECORD_BYTES = {'compact': 11_400, 'float': 22_700, 'full': 99_800}
WINDOWS_PER_SECOND = 1000 / 32


def expected_bytes(items: Sequence[TrackItem], layout: str) -> int:
  """Roughly what the shards of `items` will take: their audio's length (soundfile's header;
  a fifth of an MP3's bytes per second where the header does not say) times the records a
  second of audio gives."""
  import soundfile
  seconds = 0.0
  for item in items:
    try:
      info = soundfile.info(item.path)
      length = info.frames / info.samplerate
    except Exception:  # not readable here: the build names it
      length = os.path.getsize(item.path) / 16_000 if os.path.exists(item.path) else 0.0
    for cap in (item.max_seconds, item.note_seconds):
      if cap:
        length = min(length, cap) if cap == item.max_seconds else cap
    seconds += length
  return int(seconds * WINDOWS_PER_SECOND * RECORD_BYTES[layout])


def check_out(out: pathlib.Path, need_bytes: int) -> None:
  """The dataset folder can be made and written, with room for what is to be written."""
  if out.exists() and not out.is_dir():
    raise BuildError(f'{out}: is a file, not a folder; give --out a folder')
  try:
    (out / '.progress').mkdir(parents=True, exist_ok=True)
  except OSError as e:
    raise BuildError(f'{out}: cannot create the folder ({atomic.describe(e)})') from None
  atomic.check_writable(str(out / 'manifest.json'), need_bytes)


def build(items: Sequence[TrackItem], out_dir, source: str, layout: str = 'compact',
          data: DataConfig = DataConfig(), tracks_per_shard: int = 8, processes: int = 0,
          progress: bool = True, extra_manifest: Optional[dict] = None,
          shard_writer: Optional[Callable] = None) -> dict:
  """Writes the dataset folder and its manifest.json; returns the manifest.

  `shard_writer(todo, results, out, jobs, processes, progress, on_shard)` writes the shards
  still to be written (default: worker processes here; tfrecords_tools/beam_build.py: a Beam
  pipeline); everything around it (settings, resume, manifest) is the same for both.

  Everything that can be refused is refused before anything is written: the settings, the
  folder, its free space. The settings are saved with the first finished shard (a shard
  without them is written again), and a build that keeps no segment leaves nothing behind,
  so a refused or failed run never blocks the corrected one."""
  if layout not in LAYOUTS:
    raise BuildError(f'unknown layout {layout!r}; choose one of {", ".join(LAYOUTS)}')
  if not items:
    raise BuildError(f'no audio files to build {out_dir} from')
  if processes < 0:
    raise BuildError(f'processes must be 0 (every core) or more, got {processes}')
  out = pathlib.Path(out_dir).expanduser()
  jobs = plan_shards(items, tracks_per_shard)  # refuses a bad tracks_per_shard first
  settings = json.loads(json.dumps(
      {'source': source, 'layout': layout, 'data': dataclasses.asdict(data),
       'tracks_per_shard': tracks_per_shard,
       'items': sorted([i.track_id, i.split, i.note_seconds, i.max_seconds] for i in items)}))
  settings_path = out / '.progress' / 'settings.json'
  fresh = not out.exists()
  resumed = out.is_dir() and _check_settings(out, settings)
  check_out(out, 0)
  for stale in out.glob('.*.tmp'):  # temp names of builds before atomic.py
    stale.unlink()
  atomic.clean_stale(str(out))
  common = {'out': str(out), 'layout': layout, 'margin': data.eval_margin,
            'data': dataclasses.asdict(data)}
  results, todo = [], []
  checking = tqdm(jobs, unit='shard', desc=f'{out.name}: checking finished shards',
                  disable=not progress or not resumed, file=sys.stderr, leave=False)
  for job in checking:
    done = _done(out, job) if resumed else None
    (todo.append({**job, **common}) if done is None else results.append(done))
  atomic.check_writable(str(out / 'manifest.json'),
                        expected_bytes([TrackItem(**d) for j in todo for d in j['items']], layout))

  def save_settings():
    if not settings_path.exists():
      atomic.write_text(str(settings_path), json.dumps(settings, indent=1, sort_keys=True))

  processes = processes or compute.cores()
  t0 = time.perf_counter()
  (shard_writer or _write_shards)(todo, results, out, jobs, processes, progress, save_settings)
  elapsed = time.perf_counter() - t0
  if not sum(r['records'] for r in results):
    skipped = sum(len(r['skipped']) for r in results)
    _forget(out, jobs, fresh)
    raise BuildError(f'{out}: no segment kept from {len(items)} file(s) ({skipped} unreadable, the '
                     'rest shorter than 320 ms or silent); no manifest written, nothing kept')
  save_settings()
  manifest = _manifest(out, source, layout, data, jobs, results, tracks_per_shard, extra_manifest)
  manifest['last_run'] = {'shards_written': len(todo), 'seconds': round(elapsed, 2),
                          'processes': processes}
  atomic.write_json(str(out / 'manifest.json'), manifest, indent=1)
  return manifest


def _forget(out: pathlib.Path, jobs, fresh: bool) -> None:
  """A build that kept no segment leaves nothing: its (empty) shards and progress, and the
  folder itself if this run made it; so a corrected run is not refused."""
  if fresh:
    shutil.rmtree(out, ignore_errors=True)
    return
  for job in jobs:
    for path in (out / job['name'], out / '.progress' / f'{job["name"]}.json'):
      path.unlink(missing_ok=True)
  (out / '.progress' / 'settings.json').unlink(missing_ok=True)


def _write_shards(todo, results, out, jobs, processes, progress, on_shard) -> None:
  """The shards of `todo`, in this process or over worker processes; their counts join
  `results`, on_shard() after each. SIGTERM or Ctrl-C here kill the workers at once (finished
  shards stay)."""
  bar = tqdm(total=sum(len(j['items']) for j in todo), unit='track', disable=not progress,
             desc=f'{out.name}: {len(todo)} of {len(jobs)} shards to write', file=sys.stderr)

  def collect(stats, n_items):
    results.append(stats)
    if stats['records']:
      on_shard()
    for msg in stats['skipped']:
      bar.write(f'skipped: {msg}', file=sys.stderr)
    for msg in stats.get('warnings', []):
      bar.write(f'warning: {msg}', file=sys.stderr)
    bar.update(n_items)

  try:
    if processes == 1 or len(todo) <= 1:
      for job in todo:
        collect(write_shard(job), len(job['items']))
      return
    pool = compute.worker_pool(min(processes, len(todo)))
    try:
      with compute.signals_deferred():
        futures = {pool.submit(write_shard, job): len(job['items']) for job in todo}
      for f in as_completed(futures):
        collect(f.result(), futures[f])
    except BrokenProcessPool:
      raise BuildError(f'{out}: a worker process died (out of memory, or a decoder crashed); '
                       'finished shards are kept, run again to resume') from None
    except BaseException:
      compute.kill_pool(pool)
      raise
    pool.shutdown()
  finally:
    bar.close()


def _manifest(out, source, layout, data, jobs, results, tracks_per_shard, extra):
  splits = {}
  skipped, warnings = [], []
  for split in SPLITS:
    mine = [r for r in results if r['split'] == split]
    splits[split] = {
        'shards': sum(1 for j in jobs if j['split'] == split),
        **{k: sum(r[k] for r in mine) for k in ('tracks', 'windows', 'kept_64', 'kept_48',
                                                  'records')},
        'audio_seconds': round(sum(r['seconds'] for r in mine), 2),
        'kept_seconds': round(sum(r['kept_seconds'] for r in mine), 2),
    }
    for r in sorted(mine, key=lambda r: r['name']):
      skipped.extend(r['skipped'])
      warnings.extend(r.get('warnings', []))
  return {
      'format': 'audio-context-encoder windows v1',
      'source': source,
      'layout': layout,
      'audio_dtype': 'int16' if layout == 'compact' else 'float32',
      'sample_rate': SAMPLE_RATE,
      'segment_length': L,
      'margin': data.eval_margin,
      'record_length': L + 2 * data.eval_margin,
      'features': ['context [16, 257, 4] float32', 'target [11, 257] float32'] if layout == 'full'
                  else [],
      'tracks_per_shard': tracks_per_shard,
      'splits': splits,
      'skipped_files': skipped,
      'warnings': warnings,
      'config': dataclasses.asdict(data),
      'build_seconds_total': round(sum(r.get('build_seconds', 0.0) for r in results), 2),
      'bytes': sum((out / j['name']).stat().st_size for j in jobs if (out / j['name']).exists()),
      **(extra or {}),
  }
