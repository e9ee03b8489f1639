# labelwise: every target builds .venv if it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The C sources are in the stamp: an edit to them rebuilds the extension in place.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile src/labelwise/strategies/*.c | cksum | cut -d' ' -f1)
# The demo's smaller install (labelwise and the server extra): its own stamp, satisfied by the full one.
DEMO_STAMP := $(subst .installed-,.demo-installed-,$(STAMP))
# Where `make demo` keeps its store; a second `make demo` reopens it (delete the folder for a new one).
DEMO_DIR ?= labelwise-demo
PYTEST_ARGS ?= -m "not slow" -n 2


.PHONY: all venv demo demo-venv simulate-demo test lint typecheck bench bench-store bench-server bench-server-pg bench-crash bench-scale clean

all: venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# PyTorch is pinned to the build on these machines' disk; the package itself asks only torch>=2.3.
$(STAMP): $(BIN)/python pyproject.toml Makefile $(wildcard src/labelwise/strategies/*.c)
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[torch,postgres,server,scale,data,text,spans,dev]"
	touch $(STAMP)

venv: $(STAMP)

# Only what the annotation server needs: no PyTorch, Dask, data sets' packages or test tools.
$(DEMO_STAMP): $(BIN)/python pyproject.toml Makefile $(wildcard src/labelwise/strategies/*.c)
	if [ ! -f $(STAMP) ]; then $(BIN)/pip install --quiet -e ".[server]"; fi
	touch $(DEMO_STAMP)

demo-venv: $(DEMO_STAMP)

# The main job: an annotation project on bundled digits images; label in the browser while the
# model learns. Prints the URL and the tokens (the next free port if 8000 is taken); Ctrl-C
# stops it. The store stays in $(DEMO_DIR)/, which the next `make demo` reopens.
demo: demo-venv
	$(BIN)/labelwise serve --demo --demo-dir $(DEMO_DIR) $(if $(wildcard $(DEMO_DIR)/demo.db),--resume)

# Which strategy saves the most labels? A short simulation with learning curves versus random.
simulate-demo: venv
	$(BIN)/labelwise simulate --dataset digits --model logreg \
		--strategies random,margin,entropy,coreset,badge,auto --seeds 5 --initial 20 \
		--batch-size 10 --budget 400 --out runs/demo

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

# The annotation service (issues 5, 16): 16 simulated annotators sending the annotation page's
# requests on loopback, 100k pool, SQLite; then the API client of issue 5 (combined).
bench-server: venv
	$(BIN)/python -m benchmarks.server_bench --mode ui --seconds 20
	$(BIN)/python -m benchmarks.server_bench --mode combined --seconds 20

# The same on PostgreSQL (issue 16): `labelwise serve` on SQLite, then `labelwise serve
# --workers 1` and `--workers 2` with `labelwise worker` on PostgreSQL; the ratio 2 / 1 last.
bench-server-pg: venv
	$(BIN)/python -m benchmarks.server_bench --workers 1 --seconds 20
	$(BIN)/python -m benchmarks.server_bench --store $(PG_BENCH_URL) --workers 1,2 --seconds 20

# Crash run (issue 16, not CI): 100 SIGKILLs of API processes and the trainer on PostgreSQL while
# 4 annotators label; checks what was acknowledged, integrity, leases, rounds. KILLS=3 for a taste.
KILLS ?= 100
bench-crash: venv
	$(BIN)/python -m benchmarks.crash_bench --store $(PG_BENCH_URL) --kills $(KILLS)

# Scale (issue 9) at 1M items; the 10M run of benchmarks/README.md takes ITEMS=10000000 SHARDS=100.
ITEMS ?= 1000000
SHARDS ?= 10
bench-scale: venv
	$(BIN)/python -m benchmarks.scale_bench --items $(ITEMS) --shards $(SHARDS) --skip kcenter \
		--out benchmarks/results/scale-$(ITEMS).json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The loop (issue 15): 16 annotators on a 10,000-text pool for 5 minutes (MiniLM embeddings cached
# in benchmarks/.cache), then one round over 1,000,000 stored embeddings. Smoke run:
# make bench-loop LOOP_SECONDS=30 LOOP_ROUND_ITEMS=100000
LOOP_SECONDS ?= 300
LOOP_ROUND_ITEMS ?= 1000000
.PHONY: bench-loop
bench-loop: venv
	$(BIN)/python -m benchmarks.loop_bench --seconds $(LOOP_SECONDS) \
		--round-items $(LOOP_ROUND_ITEMS) --out benchmarks/results/loop.json

# The Label Studio backend against a real Label Studio (issues 17 and 24; not CI). Label Studio
# goes into its own venv, never the project's: python3 -m venv /tmp/ls-venv &&
# /tmp/ls-venv/bin/pip install label-studio. Without it the script says so and exits 0.
LABEL_STUDIO ?= /tmp/ls-venv/bin/label-studio
LS_ANNOTATIONS ?= 30
LS_REFRESH_TASKS ?= 0
.PHONY: e2e-labelstudio
e2e-labelstudio: venv
	$(BIN)/python -m benchmarks.labelstudio_e2e \
		$(if $(wildcard $(LABEL_STUDIO)),--label-studio $(LABEL_STUDIO)) \
		--annotations $(LS_ANNOTATIONS) --refresh-tasks $(LS_REFRESH_TASKS) \
		--out benchmarks/results/labelstudio_e2e.json

# Screenshots of each page for the README (docs/screenshots/*.png): the demo served on a free
# port, a team's work played through the API, Debian's chromium headless (apt-get install -y
# chromium; Playwright with executable_path, never a downloaded browser).
.PHONY: screenshots
screenshots: venv
	$(BIN)/python docs/screenshots.py --out docs/screenshots
