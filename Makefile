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

.PHONY: venv sysdeps test demo bench selfcheck clean-venv

venv: $(STAMP)

sysdeps:
	@bash scripts/system_deps.sh

# Re-running on a ready machine does nothing: the stamp is newer than setup.py.
$(STAMP): setup.py
	@bash scripts/system_deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@if [ "$(GPU)" = "1" ]; then $(PY) -m pip uninstall -q -y tensorflow-cpu && \
	  $(PY) -m pip install -q -e '.[gpu,test]'; fi
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

selfcheck: $(STAMP)
	$(PY) -m audio_context_encoder selfcheck

demo: selfcheck

bench: $(STAMP)
	$(PY) -m benchmarks.run_all $(BENCH)

clean-venv:
	rm -rf $(VENV)
