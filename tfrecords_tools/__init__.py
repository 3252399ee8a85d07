"""Builds the datasets of 320 ms windows in TFRecords (paper §3.2, Table 1).

  sources     FMA small, NSynth, a local folder, demo stand-ins (fetch + track lists)
  download    resumable, checksum-verified downloads; safe unpacking
  splits      train/valid/test by track
  writer      sharded, multi-process, resumable writer and manifest.json
  table1      Table 1 of a built dataset beside the paper's
  build       the command line (absl)

The signal model the records hold (decoding, the silence rule and windows, the manifest and
the tf.data readers) belongs to the library: audio_context_encoder.audio.audio_io, segmenting,
manifest and reader. Imports go one way: tfrecords_tools -> audio_context_encoder.
"""
