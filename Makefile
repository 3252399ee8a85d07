# audio-context-encoder: every user-facing job is a make target.
#   make demo   - set up, then the main job on a small built-in dataset
#   make test   - set up, then the test suite
#   make bench  - measured figures (speed, disk), printed
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# GPU=1 installs tensorflow[and-cuda] instead of the CPU wheel.
GPU ?= 0
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: venv sysdeps test test-fast demo models standin-tables bench selfcheck clean-venv

venv: $(STAMP)

sysdeps:
	@bash scripts/system_deps.sh

# Re-running on a ready machine does nothing: the stamp is newer than setup.py.
$(STAMP): setup.py
	@bash scripts/system_deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the Python packages into $(VENV) (about 2 GB with TensorFlow; pip shows each download)"
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip wheel
	set -o pipefail; $(PY) -m pip install --disable-pip-version-check --progress-bar=on -e '.[test,beam]' \
	  | { grep -v '^Requirement already satisfied' || true; }
	@if [ "$(GPU)" = "1" ]; then $(PY) -m pip uninstall -q -y tensorflow-cpu && \
	  $(PY) -m pip install -q -e '.[gpu,test,beam]'; fi
	@touch $(STAMP)

# The tests also synthesise speech with espeak-ng and flite (the long-gap stand-in's voices) and
# open the listening page in Debian's Chromium through its ChromeDriver. Two processes: both cores.
TEST_SYSDEPS = espeak-ng flite chromium chromium-driver
test: $(STAMP)
	@bash scripts/system_deps.sh $(TEST_SYSDEPS)
	$(PY) -m pytest -q -n 2 tests

# The quick loop: every test not marked slow (subprocesses, training): about 3 minutes in one process.
test-fast: $(STAMP)
	@bash scripts/system_deps.sh $(TEST_SYSDEPS)
	$(PY) -m pytest -q -m 'not slow' tests

selfcheck: $(STAMP)
	$(PY) -m audio_context_encoder selfcheck

# The main job on built-in data: stand-in datasets; a 5-minute training of the `small` network
# on each (DEMO_TRAIN_S seconds; a demonstration with its TensorBoard curve; re-running continues
# it); Tables 2-3 on DEMO_SEGMENTS evenly sampled test segments with the shipped networks
# (models/), the demo-trained ones beside them, the perceptual table and the listening page
# (results/demo/listen/index.html); an inpainted music excerpt, all under results/demo/.
DEMO_TRAIN_S ?= 300
DEMO_SEGMENTS ?= 256
# The settings of the shipped networks (README "Shipped networks"): the `small` preset, the paper's
# loss, batch-norm momentum 0.9 and the residual deviation that starts at LPC's gap magnitudes, with
# the context magnitudes as extra input channels.
SHIP_TRAIN = $(TRAIN) --preset=small --loss=$(SHIP_LOSS) --batch_norm_momentum=0.9 \
  --valid_batches=50 --log_every=20 --validation_interval=100
SHIP_LOSS ?= paper
SHIP_MUSIC_FLAGS ?= --residual=lpc --context_magnitudes
SHIP_INSTRUMENTS_FLAGS ?= --residual=lpc --context_magnitudes
MUSIC_SHIPPED = models/small-music.keras
INSTRUMENTS_SHIPPED = models/small-instruments.keras
demo: selfcheck demo-data
	$(SHIP_TRAIN) $(SHIP_MUSIC_FLAGS) --data_dir=$(DATA_DIR)/demo-music --name=demo-music \
	  --time_budget_s=$(DEMO_TRAIN_S)
	$(SHIP_TRAIN) $(SHIP_INSTRUMENTS_FLAGS) --data_dir=$(DATA_DIR)/demo-instruments --name=demo-instruments \
	  --time_budget_s=$(DEMO_TRAIN_S)
	$(PY) -m experiments.tables --music_data=$(DATA_DIR)/demo-music \
	  --instruments_data=$(DATA_DIR)/demo-instruments --music_model=$(MUSIC_SHIPPED) \
	  --instruments_model=$(INSTRUMENTS_SHIPPED) --max_segments=$(DEMO_SEGMENTS) \
	  --tones=16 --out_dir=results/demo
	$(PY) -m experiments.tables --music_data=$(DATA_DIR)/demo-music \
	  --instruments_data=$(DATA_DIR)/demo-instruments --music_model=$(RUNS_DIR)/demo-music/best.keras \
	  --instruments_model=$(RUNS_DIR)/demo-instruments/best.keras --max_segments=$(DEMO_SEGMENTS) \
	  --tones=0 --figures=false --perceptual_excerpts=0 --out_dir=results/demo/trained-5min
	$(PY) -m experiments.demo_inpaint --model=$(MUSIC_SHIPPED) --out_dir=results/demo

# The shipped networks (models/small-*.keras + provenance JSON): trained SHIP_TRAIN_S seconds per
# network on the stand-ins (re-running continues the runs), then copied with their provenance.
SHIP_TRAIN_S ?= 7200
models: demo-data
	$(SHIP_TRAIN) $(SHIP_MUSIC_FLAGS) --data_dir=$(DATA_DIR)/demo-music --name=ship-music --steps=100000 \
	  --lr_drop_step=80000 --time_budget_s=$(SHIP_TRAIN_S)
	$(PY) -m experiments.ship_model --run_dir=$(RUNS_DIR)/ship-music --kind=music \
	  --data_dir=$(DATA_DIR)/demo-music --command='make models SHIP_TRAIN_S=$(SHIP_TRAIN_S)'
	$(SHIP_TRAIN) $(SHIP_INSTRUMENTS_FLAGS) --data_dir=$(DATA_DIR)/demo-instruments \
	  --name=ship-instruments --steps=100000 \
	  --lr_drop_step=80000 --time_budget_s=$(SHIP_TRAIN_S)
	$(PY) -m experiments.ship_model --run_dir=$(RUNS_DIR)/ship-instruments --kind=instruments \
	  --data_dir=$(DATA_DIR)/demo-instruments --command='make models SHIP_TRAIN_S=$(SHIP_TRAIN_S)'

# CPU-scale reproduction on the stand-ins with the shipped networks: Tables 2-3 on STANDIN_SEGMENTS
# test segments sampled evenly over every test track -> results/standin/ (resumable).
STANDIN_SEGMENTS ?= 1000
standin-tables: demo-data
	$(PY) -m experiments.tables --music_data=$(DATA_DIR)/demo-music \
	  --instruments_data=$(DATA_DIR)/demo-instruments --music_model=$(MUSIC_SHIPPED) \
	  --instruments_model=$(INSTRUMENTS_SHIPPED) --max_segments=$(STANDIN_SEGMENTS) \
	  --out_dir=results/standin $(TABLES_FLAGS)

bench: $(STAMP)
	$(PY) -m benchmarks.run_all $(BENCH)

# Datasets (tfrecords_tools/). Re-running resumes; DATA_FLAGS adds build flags, e.g.
# DATA_FLAGS=--layout=full. `make table1` prints Table 1 of every dataset built under data/.
.PHONY: data data-instruments demo-data table1
DATA_DIR ?= data
BUILD_DATA = $(PY) -m tfrecords_tools.build --download_dir=$(DATA_DIR)/downloads $(DATA_FLAGS)

data: $(STAMP)
	$(BUILD_DATA) --source=fma --out=$(DATA_DIR)/fma-small

data-instruments: $(STAMP)
	$(BUILD_DATA) --source=nsynth --out=$(DATA_DIR)/nsynth

demo-data: $(STAMP)
	$(BUILD_DATA) --source=demo-music --out=$(DATA_DIR)/demo-music
	$(BUILD_DATA) --source=demo-instruments --out=$(DATA_DIR)/demo-instruments

table1: $(STAMP)
	$(PY) -m tfrecords_tools.table1 \
	  $(patsubst %/manifest.json,--data_dir=%,$(wildcard $(DATA_DIR)/*/manifest.json))

# Tables 2-3 of the paper, pure tones and spectrogram figures under results/ (experiments/tables.py).
# `tables-lpc` needs no trained model; `tables` also evaluates MUSIC_MODEL and INSTRUMENTS_MODEL.
# TABLES_FLAGS adds flags, e.g. TABLES_FLAGS=--max_segments=2000.
.PHONY: tables tables-lpc
MUSIC_DATA ?= $(DATA_DIR)/demo-music
INSTRUMENTS_DATA ?= $(DATA_DIR)/demo-instruments
MUSIC_MODEL ?= runs/paper-demo-music-magnitude/best.keras
INSTRUMENTS_MODEL ?= runs/paper-demo-instruments-magnitude/best.keras
TABLES = $(PY) -m experiments.tables --music_data=$(MUSIC_DATA) --instruments_data=$(INSTRUMENTS_DATA)

tables: $(STAMP)
	$(TABLES) --music_model=$(MUSIC_MODEL) --instruments_model=$(INSTRUMENTS_MODEL) $(TABLES_FLAGS)

tables-lpc: $(STAMP)
	$(TABLES) $(TABLES_FLAGS)

# Training (experiments/train.py): the paper's networks on the built datasets, into
# runs/<preset>-<dataset>-<network>/. Re-running resumes from its checkpoints. TRAIN_FLAGS adds
# flags, e.g. TRAIN_FLAGS='--preset=small --steps=2000' or '--strategy=mirrored --precision=mixed_bfloat16'.
.PHONY: train-music train-instruments tensorboard
RUNS_DIR ?= runs
TRAIN = $(PY) -m experiments.train --runs_dir=$(RUNS_DIR)

train-music: $(STAMP)
	$(TRAIN) --data_dir=$(MUSIC_DATA) $(TRAIN_FLAGS)

train-instruments: $(STAMP)
	$(TRAIN) --data_dir=$(INSTRUMENTS_DATA) $(TRAIN_FLAGS)

# TensorBoard on RUNS_DIR at http://127.0.0.1:TB_PORT, reachable from this machine only.
# TB_BIND_ALL=1 listens on every interface: anyone who can reach the port then reads the runs
# (configs, spectrograms), with no password; prefer an SSH tunnel (ssh -L 6006:127.0.0.1:6006).
TB_PORT ?= 6006
TB_BIND_ALL ?= 0
tensorboard: $(STAMP)
	$(VENV)/bin/tensorboard --logdir=$(RUNS_DIR) --port=$(TB_PORT) \
	  $(if $(filter 1,$(TB_BIND_ALL)),--bind_all,--host=127.0.0.1)

clean-venv:
	rm -rf $(VENV)

# Long gaps (Chang et al. 2019; docs/longgap.md): offline stand-ins for SC09 and ESC-50 built
# from Debian packages (espeak-ng/flite/ffmpeg installed by scripts/system_deps.sh), then the
# baselines evaluated on their test splits -> results/longgap_*_standin.md.
.PHONY: longgap-demo-data longgap-sc09-standin longgap-esc50-standin longgap-data-sc09 longgap-data-esc50 longgap-table test-longgap
LONGGAP_BUILD = nice -n 10 $(PY) -m tfrecords_tools.longgap_build --downloads=$(DATA_DIR)/downloads
LONGGAP_CLIPS ?= 40
LONGGAP_DP_ITERATIONS ?= 300
# Deep Prior clips per table (a 5 s ESC-50 clip costs about 7 SC09 clips).
LONGGAP_DP_CLIPS_SC09 ?= 4
LONGGAP_DP_CLIPS_ESC50 ?= 2

longgap-demo-data: longgap-sc09-standin longgap-esc50-standin

longgap-sc09-standin longgap-esc50-standin: $(STAMP)
	@bash scripts/system_deps.sh espeak-ng flite ffmpeg
	$(LONGGAP_BUILD) --dataset=$(@:longgap-%=%) --dest=$(DATA_DIR)/$@

longgap-data-sc09: $(STAMP)
	$(LONGGAP_BUILD) --dataset=sc09 --dest=$(DATA_DIR)/longgap-sc09

longgap-data-esc50: $(STAMP)
	$(LONGGAP_BUILD) --dataset=esc50 --dest=$(DATA_DIR)/longgap-esc50

longgap-table: longgap-demo-data
	nice -n 10 $(PY) -m experiments.longgap.score --dataset_dir=$(DATA_DIR)/longgap-sc09-standin \
	  --max_clips=$(LONGGAP_CLIPS) --deep_prior_iterations=$(LONGGAP_DP_ITERATIONS) \
	  --deep_prior_clips=$(LONGGAP_DP_CLIPS_SC09)
	nice -n 10 $(PY) -m experiments.longgap.score --dataset_dir=$(DATA_DIR)/longgap-esc50-standin \
	  --max_clips=$(LONGGAP_CLIPS) --deep_prior_iterations=$(LONGGAP_DP_ITERATIONS) \
	  --deep_prior_clips=$(LONGGAP_DP_CLIPS_ESC50)

# The perceptual-distance classifiers (experiments/longgap/classifiers.py) on the SC09-like stand-in;
# results/longgap_classifiers_standin.md is that table with notes.
.PHONY: longgap-classifiers
longgap-classifiers: longgap-demo-data
	nice -n 5 $(PY) -m experiments.longgap.classifiers --clf_data=$(DATA_DIR)/longgap-sc09-standin \
	  --clf_out=runs/classifiers-sc09-standin --clf_epochs=30 --clf_time_budget_s=240 \
	  --clf_report=runs/classifiers-sc09-standin/table.md

# Chang et al. 2019's Tables 1-3 and Fig. 3 on both stand-ins with the shipped small networks and
# classifiers of each stand-in (models/longgap-*-{sc09,esc50}.*; experiments/longgap/tables.py) -> results/longgap_tables_standin.md,
# longgap_table{1,2,3}_standin.csv, longgap_figure3_standin.png; under 30 min on 2 cores.
# LONGGAP_TABLES_FLAGS adds flags, e.g. '--lgt_sc09_clips=100 --lgt_dp_iterations=1000'.
.PHONY: longgap-tables
longgap-tables: longgap-demo-data
	nice -n 10 $(PY) -m experiments.longgap.tables --lgt_sc09_data=$(DATA_DIR)/longgap-sc09-standin \
	  --lgt_esc50_data=$(DATA_DIR)/longgap-esc50-standin $(LONGGAP_TABLES_FLAGS)

test-longgap: $(STAMP)
	$(PY) -m pytest -q tests/test_longgap_*.py

# Long-gap networks (issue 14, experiments/longgap/train.py): MODEL=spec|wave on a built long-gap
# folder, into runs/longgap-<preset>-<dataset>-<model>/; re-running resumes. E.g.
#   make train-longgap DATA=data/longgap-sc09-standin MODEL=spec LONGGAP_FLAGS='--steps=2000 --time_budget_s=1800'
.PHONY: train-longgap
DATA ?= $(DATA_DIR)/longgap-sc09-standin
MODEL ?= spec
LONGGAP_PRESET ?= small
train-longgap: $(STAMP)
	$(PY) -m experiments.longgap.train --data_dir=$(DATA) --model=$(MODEL) --preset=$(LONGGAP_PRESET) --runs_dir=$(RUNS_DIR) $(LONGGAP_FLAGS)

# The shipped long-gap networks (inpaint --method longgap-spec|longgap-wave): both trained on the
# SC09-like stand-in into $(RUNS_DIR)/lg-spec and $(RUNS_DIR)/lg-wave (re-running resumes
# them), then copied with their provenance to models/longgap-{spec,wave}-sc09.keras + .json
# (experiments/longgap/ship.py).
.PHONY: longgap-models
LONGGAP_SPEC_STEPS ?= 6200
LONGGAP_WAVE_STEPS ?= 5200
LONGGAP_SPEC_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(DATA_DIR)/longgap-sc09-standin \
  --model spec --preset small --valid_phase pghi+fgla --steps $(LONGGAP_SPEC_STEPS) \
  --runs_dir $(RUNS_DIR) --name lg-spec --valid_every 400 --valid_clips 48
LONGGAP_WAVE_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(DATA_DIR)/longgap-sc09-standin \
  --model wave --preset small --steps $(LONGGAP_WAVE_STEPS) \
  --runs_dir $(RUNS_DIR) --name lg-wave --valid_every 400 --valid_clips 48
longgap-models: longgap-sc09-standin
	$(LONGGAP_SPEC_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-spec \
	  --command='$(LONGGAP_SPEC_TRAIN)'
	$(LONGGAP_WAVE_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-wave \
	  --command='$(LONGGAP_WAVE_TRAIN)'

# The ESC-50-like half (issue 23): both classifiers and both networks on the ESC-50-like stand-in
# with the time budgets they were trained with here (resumable: re-running continues each run),
# shipped to models/longgap-{classifier-wave,classifier-spec,spec,wave}-esc50.keras + .json.
.PHONY: longgap-esc50-models
ESC50_STANDIN = $(DATA_DIR)/longgap-esc50-standin
LONGGAP_ESC50_SPEC_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(ESC50_STANDIN) \
  --model spec --preset small --valid_phase pghi+fgla --steps 6200 --runs_dir $(RUNS_DIR) \
  --name lg-spec-esc50 --valid_every 300 --valid_clips 24 --time_budget_s 1500
LONGGAP_ESC50_WAVE_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(ESC50_STANDIN) \
  --model wave --preset small --steps 5200 --runs_dir $(RUNS_DIR) --name lg-wave-esc50 \
  --valid_every 300 --valid_clips 24 --time_budget_s 900
longgap-esc50-models: longgap-esc50-standin
	nice -n 5 $(PY) -m experiments.longgap.classifiers --clf_data=$(ESC50_STANDIN) \
	  --clf_out=$(RUNS_DIR)/classifiers-esc50 --clf_kinds=wave --clf_epochs=30 --clf_time_budget_s=300
	nice -n 5 $(PY) -m experiments.longgap.classifiers --clf_data=$(ESC50_STANDIN) \
	  --clf_out=$(RUNS_DIR)/classifiers-esc50 --clf_kinds=spec --clf_epochs=30 --clf_time_budget_s=420
	$(PY) -m experiments.longgap.ship --classifiers_dir=$(RUNS_DIR)/classifiers-esc50
	nice -n 5 $(LONGGAP_ESC50_SPEC_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-spec-esc50 --command='$(LONGGAP_ESC50_SPEC_TRAIN)'
	nice -n 5 $(LONGGAP_ESC50_WAVE_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-wave-esc50 --command='$(LONGGAP_ESC50_WAVE_TRAIN)'

# The baseline-start spectrogram networks (a deviation, off by default; docs/longgap_models.md,
# "Starting from a baseline") on both stand-ins -> models/longgap-spec-interp-{sc09,esc50}.keras.
.PHONY: longgap-baseline-models
LONGGAP_INTERP_SC09_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(DATA_DIR)/longgap-sc09-standin \
  --model spec --preset small --baseline interp --valid_phase pghi+fgla --steps 6200 \
  --runs_dir $(RUNS_DIR) --name lg-spec-interp-sc09 --valid_every 400 --valid_clips 48 --time_budget_s 1200
LONGGAP_INTERP_ESC50_TRAIN = $(PY) -m experiments.longgap.train --data_dir $(ESC50_STANDIN) \
  --model spec --preset small --baseline interp --valid_phase pghi+fgla --steps 6200 \
  --runs_dir $(RUNS_DIR) --name lg-spec-interp-esc50 --valid_every 300 --valid_clips 24 --time_budget_s 1500
longgap-baseline-models: longgap-demo-data
	nice -n 5 $(LONGGAP_INTERP_SC09_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-spec-interp-sc09 --command='$(LONGGAP_INTERP_SC09_TRAIN)'
	nice -n 5 $(LONGGAP_INTERP_ESC50_TRAIN)
	$(PY) -m experiments.longgap.ship --run_dir=$(RUNS_DIR)/lg-spec-interp-esc50 --command='$(LONGGAP_INTERP_ESC50_TRAIN)'
