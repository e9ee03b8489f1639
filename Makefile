# labelwise: every target builds .venv if it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -m "not slow" -n 2


.PHONY: all venv demo simulate-demo test lint typecheck bench clean

all: venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PyTorch is pinned to the build on these machines' disk; the package itself asks only torch>=2.3.
$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[torch,postgres,server,scale,data,dev]"
	touch $(STAMP)

venv: $(STAMP)

# The main job: an annotation project on bundled digits images; label in the browser while the
# model learns. Prints the URL and the tokens; Ctrl-C stops it.
demo: venv
	$(BIN)/labelwise serve --demo

# Which strategy saves the most labels? A short simulation with learning curves versus random.
simulate-demo: venv
	$(BIN)/labelwise simulate --dataset digits --model logreg \
		--strategies random,margin,entropy,coreset,badge --seeds 3 --initial 20 \
		--batch-size 10 --budget 200 --out runs/demo

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: venv
	$(BIN)/mypy src

test: lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/pip install --quiet --no-deps batchbald-redux==2.0.5 baal==2.1.0 "toma>=1.1,<2" \
		"structlog>=22,<23" "torchmetrics>=1.7,<2" "lightning-utilities>=0.8"
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
