"""Datasets of 320 ms windows in TFRecords (paper §3.2): sources, build, tf.data readers.

  sources     FMA small, NSynth, a local folder, demo stand-ins (fetch + track lists)
  download    resumable, checksum-verified downloads; safe unpacking
  audio_io    decode to mono float32 at 16 kHz (tensorflow-io for MP3)
  segmenting  silence rule, windows every 32 ms, gap-RMS filter
  splits      train/valid/test by track
  writer      sharded, multi-process, resumable writer and manifest.json
  reader      training_dataset / evaluation_dataset (tf.data)
  table1      Table 1 of a built dataset beside the paper's
  build       the command line (absl)
"""
