# labelwise: every target builds .venv if it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The C sources are in the stamp: an edit to them rebuilds the extension in place.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile src/labelwise/strategies/*.c | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -m "not slow" -n 2


.PHONY: all venv demo simulate-demo test lint typecheck bench bench-store bench-server bench-scale clean

all: venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PyTorch is pinned to the build on these machines' disk; the package itself asks only torch>=2.3.
$(STAMP): $(BIN)/python pyproject.toml Makefile $(wildcard src/labelwise/strategies/*.c)
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

# The store (issue 4): 1M-row import, status and next task; on PostgreSQL too where it answers.
PG_BENCH_URL ?= postgresql://postgres@127.0.0.1:5432/test
bench-store: venv
	$(BIN)/python -m benchmarks.store_bench
	@if command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; then \
		$(BIN)/python -m benchmarks.store_bench --url $(PG_BENCH_URL); \
	else echo "PostgreSQL does not answer on 127.0.0.1:5432: its store figures are skipped"; fi

# The annotation service (issue 5): 16 simulated annotators on loopback, 100k pool, SQLite.
bench-server: venv
	$(BIN)/python -m benchmarks.server_bench --mode combined --seconds 20
	$(BIN)/python -m benchmarks.server_bench --mode plain --seconds 20

# Scale (issue 9) at 1M items; the 10M run of benchmarks/README.md takes ITEMS=10000000 SHARDS=100.
ITEMS ?= 1000000
SHARDS ?= 10
bench-scale: venv
	$(BIN)/python -m benchmarks.scale_bench --items $(ITEMS) --shards $(SHARDS) --skip kcenter \
		--out benchmarks/results/scale-$(ITEMS).json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
