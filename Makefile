PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench conformance check-fresh

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'

run: $(PY)
	mkdir -p build
	$(PY) -m tensorscript run examples/train_spiral.py 30 build/spiral_mlp.safetensors

test: $(PY)
	$(PY) -m pytest

conformance: $(PY)
	$(PY) ../shared/conformance/run.py --backend tensorscript

bench: $(PY)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run_all.py
