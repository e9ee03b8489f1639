"""``labelwise simulate``: which strategy saves the most labels on this data, versus random?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from labelwise.cli import app


@app.command("simulate")
def simulate(
    dataset: str = typer.Option(None, "--dataset", help="Dataset name or a CSV/Parquet/.npy/.npz"),
    model: str = typer.Option(None, "--model", help="logreg, rf, mlp, cnn or linear_head."),
    strategies: str = typer.Option(None, "--strategies", help="Comma-separated strategy names."),
    seeds: str = typer.Option(
        None, "--seeds", help="Number of seeds (5: seeds 0..4), or a list (5,6,7) or range (5-9)."
    ),
    initial: int = typer.Option(None, "--initial", help="Size of the initial labeled set."),
    batch_size: int = typer.Option(None, "--batch-size", help="Labels acquired per round."),
    budget: int = typer.Option(None, "--budget", help="Labels at the end (initial too)."),
    out: Path = typer.Option(None, "--out", help="Output directory [default: runs/simulate]."),
    initial_strategy: str = typer.Option(None, "--initial-strategy", help="random or balanced."),
    test_size: float = typer.Option(None, "--test-size", help="Held-out test fraction."),
    target: float = typer.Option(None, "--target", help="Fraction of full-data accuracy [0.95]."),
    workers: int = typer.Option(None, "--workers", help="Parallel processes [1]."),
    pool_size: int = typer.Option(None, "--pool-size", help="Subsample the pool to this size."),
    candidates: int = typer.Option(None, "--candidates", help="Score this many per round."),
    data_dir: str = typer.Option(None, "--data-dir", help="Directory of MNIST-style IDX files."),
    label_column: str = typer.Option(None, "--label-column", help="Label column of a data file."),
    text_features: str = typer.Option(None, "--text-features", help="minilm or tfidf."),
    device: str = typer.Option(None, "--device", help="cpu or cuda (PyTorch models)."),
    stop_accuracy: float = typer.Option(
        None, "--stop-accuracy", help="End a curve once its test accuracy reaches this."
    ),
    no_baseline: bool = typer.Option(
        False, "--no-baseline", help="Run only the named strategies (no random added)."
    ),
    no_full_data: bool = typer.Option(
        False, "--no-full-data", help="Skip training on the whole pool (no targets then)."
    ),
    config_file: Path = typer.Option(None, "--config", help="A TOML file with these settings."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Simulate active learning with the known labels as the oracle and report the savings."""
    from labelwise.simulate import SimulationConfig, run_simulation, write_results
    from labelwise.simulate.config import parse_seeds

    base = SimulationConfig.from_toml(config_file) if config_file else SimulationConfig()
    file_out = _toml_out(config_file) if config_file else None
    flags: dict[str, Any] = {
        "dataset": dataset,
        "model": model,
        "strategies": strategies,
        "seeds": None if seeds is None else parse_seeds(seeds),
        "initial": initial,
        "batch_size": batch_size,
        "budget": budget,
        "initial_strategy": initial_strategy,
        "test_size": test_size,
        "target": target,
        "workers": workers,
        "pool_size": pool_size,
        "candidates": candidates,
        "data_dir": data_dir,
        "label_column": label_column,
        "text_features": text_features,
        "device": device,
        "stop_accuracy": stop_accuracy,
    }
    if no_full_data:
        flags["full_data"] = False
    if no_baseline:
        flags["baseline"] = False
    config = SimulationConfig.from_dict({**base.to_dict(), **_given(flags)})
    out_dir = out or file_out or Path("runs/simulate")
    result = run_simulation(config, progress=not quiet and sys.stderr.isatty())
    paths = write_results(result, out_dir)
    state = "complete" if result.complete else "interrupted: partial results"
    typer.echo(f"{state}; wrote {', '.join(p.name for p in paths.values())} to {out_dir}")
    if not result.complete:
        raise typer.Exit(130)


def _given(flags: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in flags.items() if v is not None}


def _toml_out(path: Path) -> Path | None:
    from labelwise.simulate.config import tomllib

    data = tomllib.loads(path.read_text())
    out = data.get("simulation", data).get("out")
    return Path(out) if out else None
