# storyreel: `make film PROMPT="..."` sets everything up and makes a film; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch (this pin is served from the local disk on our machines; on a CUDA machine
# pip takes the CUDA build of the same version). Override: make film TORCH="torch==2.13.0+cu126" ...
TORCH  ?= torch==2.13.0
PROMPT ?= A little dragon who is afraid of the dark
ARGS   ?=
STAMP  := $(VENV)/.installed

.PHONY: install film test lint format bench gpu-smoke gpu-film gpu-film-tiny clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/storyreel prepare
	touch $(STAMP)

film: $(STAMP)
	$(BIN)/storyreel make "$(PROMPT)" $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# one run: the film from segments against the single-encode floor, then revisions against the full preview film,
# then `storyreel make` itself (6 pages, preview, warm: wall and per stage, against its goal of 45 s)
bench: $(STAMP)
	$(BIN)/python bench/bench_assemble.py
	$(BIN)/python bench/bench_revise.py
	$(BIN)/python bench/bench_make.py

# the gpu profile's video models at their real sizes, random weights (a CUDA GPU): results in docs/benchmarks.md
gpu-smoke: $(STAMP)
	$(BIN)/python bench/gpu_smoke.py $(ARGS)

# the whole gpu-profile film at real sizes, random weights (a CUDA GPU; --quick: one page): docs/benchmarks.md
gpu-film: $(STAMP)
	$(BIN)/python bench/gpu_film.py $(ARGS)

# the same script with the tiny models on a CPU: checks it end to end (a film with sound), not a benchmark
gpu-film-tiny: $(STAMP)
	$(BIN)/python bench/gpu_film.py --tiny

clean:
	rm -rf $(VENV) build dist *.egg-info
