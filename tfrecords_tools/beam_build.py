"""The builder's shards written by an Apache Beam pipeline (`build --runner=beam`; docs/scaling.md).

The same per-track work as the local builder (writer.track_records: decode, §3.2 windows,
serialise) runs as a Beam transform spread over the runner's workers; the records are grouped
by the shard their track was planned into (writer.plan_shards) and each shard is written in
the planned track order by writer.write_shard, so the shards, their `.progress/` counts and the
manifest that writer.build makes from them are the local builder's, byte for byte. Resume is
the local builder's too: shards already finished are left out of the pipeline.

Every worker and this process must see `--out` as the same folder (one machine, or a shared
file system on a Flink/Spark cluster). Beam is an optional extra: `pip install -e .[beam]`.
"""

import dataclasses
import json
import pathlib
from typing import Callable, Sequence

from tfrecords_tools import writer

RUNNERS = ('DirectRunner', 'FlinkRunner', 'SparkRunner', 'PortableRunner', 'DataflowRunner')


def _track(task, jobs: dict):
  """(shard name, index in the shard, track) -> (shard name, (index, its records))."""
  name, index, item = task
  track = writer.track_records(jobs[name], item)
  return name, (index, dataclasses.replace(track, records=list(track.records)))


def _shard(grouped, jobs: dict) -> str:
  """(shard name, its tracks' records in any order) -> the shard written in the planned order."""
  name, tracks = grouped
  writer.write_shard(jobs[name], [t for _, t in sorted(tracks, key=lambda t: t[0])])
  return name


def pipeline_args(beam_runner: str, processes: int, options: Sequence[str]) -> list:
  """Beam's own command-line options: the runner, DirectRunner's workers from --processes
  (unless `options` set them), then `options` as given."""
  args = [f'--runner={beam_runner}']
  if beam_runner == 'DirectRunner' and processes > 1 and not any(
      o.startswith('--direct_') for o in options):
    args += [f'--direct_num_workers={processes}', '--direct_running_mode=multi_processing']
  return args + list(options)


def shard_writer(beam_runner: str = 'DirectRunner', options: Sequence[str] = ()) -> Callable:
  """A writer.build shard_writer that runs the shards still to write as one Beam pipeline."""

  def write(todo, results, out, jobs, processes, progress, on_shard):
    del jobs  # the pipeline needs only the shards still to write
    try:
      import apache_beam as beam
      from apache_beam.options.pipeline_options import PipelineOptions
    except ImportError:
      raise writer.BuildError('--runner=beam needs Apache Beam: pip install -e .[beam] '
                              '(docs/scaling.md)') from None
    if not todo:
      return
    on_shard()  # settings first: a pipeline that fails part-way resumes from its finished shards
    by_name = {job['name']: job for job in todo}
    tasks = [(job['name'], k, d) for job in todo for k, d in enumerate(job['items'])]
    if progress:
      print(f'{pathlib.Path(out).name}: {len(tasks)} tracks in {len(todo)} shards on Beam\'s '
            f'{beam_runner}', flush=True)
    try:
      with beam.Pipeline(options=PipelineOptions(pipeline_args(beam_runner, processes, options))) as p:
        _ = (p
             | 'Tracks' >> beam.Create(tasks)
             | 'Spread over workers' >> beam.Reshuffle()
             | 'Decode, window, serialise' >> beam.Map(_track, jobs=by_name)
             | 'By shard' >> beam.GroupByKey()
             | 'Write shard' >> beam.Map(_shard, jobs=by_name))
    except Exception as e:  # a failed worker: Beam wraps its exception in its own
      first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
      raise writer.BuildError(f'{out}: the Beam pipeline failed ({first[:300]}); finished '
                              'shards are kept, run the same command to resume') from None
    for job in todo:
      path = pathlib.Path(out) / '.progress' / f'{job["name"]}.json'
      results.append(json.loads(path.read_text()))

  return write
