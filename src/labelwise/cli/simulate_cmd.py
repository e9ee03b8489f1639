"""``labelwise simulate``: which strategy saves the most labels on this data, versus random?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from labelwise.cli import app, require_extra

if TYPE_CHECKING:
    from labelwise.simulate.config import SimulationConfig

#: The option names (as the function's parameters) that mean a :class:`SimulationConfig` field.
_SETTINGS = (
    "dataset",
    "model",
    "strategies",
    "seeds",
    "initial",
    "batch_size",
    "budget",
    "initial_strategy",
    "test_size",
    "target",
    "workers",
    "pool_size",
    "candidates",
    "data_dir",
    "label_column",
    "text_features",
    "device",
    "stop_accuracy",
    "diversity",
)


@app.command("simulate")
def simulate(
    ctx: typer.Context,
    dataset: str = typer.Option(
        "digits", "--dataset", help="A dataset's name, or a CSV, Parquet, .npy or .npz file."
    ),
    model: Literal["logreg", "rf", "mlp", "cnn", "kirsch_cnn", "linear_head"] = typer.Option(
        "logreg",
        "--model",
        help="mlp, cnn and kirsch_cnn (BatchBALD's MNIST network) need the torch extra.",
    ),
    models: str | None = typer.Option(
        None,
        "--models",
        help="Compare models too (comma-separated, e.g. logreg,rf,mlp): every model runs every "
        "strategy, and the report names the model+strategy that reaches each level with the "
        "fewest labels. Overrides --model.",
    ),
    strategies: str = typer.Option(
        "random,margin", "--strategies", help="Comma-separated strategy names."
    ),
    seeds: str = typer.Option(
        "3", "--seeds", help="Number of seeds (5: seeds 0..4), or a list (5,6,7) or range (5-9)."
    ),
    initial: int = typer.Option(20, "--initial", help="Size of the initial labeled set."),
    batch_size: int = typer.Option(10, "--batch-size", help="Labels acquired per round."),
    budget: int = typer.Option(200, "--budget", help="Labels at the end, the initial set too."),
    out: Path = typer.Option(Path("runs/simulate"), "--out", help="Output folder."),
    initial_strategy: Literal["random", "balanced"] = typer.Option(
        "random", "--initial-strategy", help="How the initial labeled set is drawn."
    ),
    test_size: float = typer.Option(0.25, "--test-size", help="Held-out test fraction."),
    target: float = typer.Option(0.95, "--target", help="Fraction of full-data accuracy."),
    workers: int = typer.Option(1, "--workers", help="Parallel processes."),
    pool_size: int | None = typer.Option(
        None, "--pool-size", help="Subsample the pool to this size (default: the whole pool)."
    ),
    candidates: int | None = typer.Option(
        None, "--candidates", help="Score this many per round (default: every unlabeled one)."
    ),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="Folder of MNIST-style IDX files."
    ),
    label_column: str = typer.Option("label", "--label-column", help="Label column of a file."),
    text_features: Literal["minilm", "tfidf"] = typer.Option(
        "minilm", "--text-features", help="Features of a text dataset; minilm needs the text extra."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (PyTorch models)."),
    stop_accuracy: float | None = typer.Option(
        None,
        "--stop-accuracy",
        help="End a curve once its test accuracy reaches this (default: run to the budget).",
    ),
    diversity: Literal["auto", "on", "off"] = typer.Option(
        "auto",
        "--diversity",
        help="auto: batches of 50+ from a pure uncertainty strategy are spread by k-means over "
        "the most uncertain 10x batch; on: every batch; off: plain top-k.",
    ),
    no_baseline: bool = typer.Option(
        False, "--no-baseline", help="Run only the named strategies (no random added)."
    ),
    no_full_data: bool = typer.Option(
        False, "--no-full-data", help="Skip training on the whole pool (no targets then)."
    ),
    config_file: Path | None = typer.Option(
        None,
        "--config",
        help="A TOML file of these settings; an option given here overrides the file.",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    task: Literal["classification", "regression", "multilabel", "spans"] = typer.Option(
        "classification",
        "--task",
        help="regression (R2, RMSE, MAE; default data diabetes), multilabel (micro/macro F1, "
        "Hamming loss; default data yeast) or spans (NER span F1 with a CRF; data hironsan or "
        "wnut16, strategies of the sequence registry, default mnlp).",
    ),
) -> None:
    """Simulate active learning with the known labels as the oracle and report the savings.

    Each strategy runs once per seed against random; the report says how many labels each one
    needs to reach the target and how that compares with random.
    """
    if not _given(ctx, "task") and _given(ctx, "dataset"):  # a named set knows its task
        from labelwise.simulate.catalog import dataset_task

        task = dataset_task(dataset) or task  # type: ignore[assignment]
    if task == "spans":
        _simulate_spans(ctx, out, baseline=not no_baseline)
        return
    if task != "classification":
        _simulate_task(ctx, task, out, baseline=not no_baseline)
        return
    from labelwise.simulate import SimulationConfig, run_simulation, write_results
    from labelwise.simulate.compare import parse_models
    from labelwise.simulate.config import parse_seeds

    compared = parse_models(models) if models is not None else None
    if {model, *(compared or ())} & {"mlp", "cnn", "kirsch_cnn"}:
        require_extra("torch", "torch")

    values = {name: ctx.params[name] for name in _SETTINGS if _given(ctx, name)}
    if "seeds" in values:
        values["seeds"] = parse_seeds(values["seeds"])
    if no_full_data:
        values["full_data"] = False
    if no_baseline:
        values["baseline"] = False
    base = SimulationConfig.from_toml(config_file) if config_file else SimulationConfig()
    config = SimulationConfig.from_dict({**base.to_dict(), **values})
    file_out = _toml_out(config_file) if config_file else None
    out_dir = out if _given(ctx, "out") or file_out is None else file_out
    if compared is not None:
        _compare_models(config, compared, out_dir, progress=not quiet and sys.stderr.isatty())
        return
    result = run_simulation(config, progress=not quiet and sys.stderr.isatty())
    paths = write_results(result, out_dir)
    state = "complete" if result.complete else "interrupted: partial results"
    typer.echo(f"{state}; wrote {', '.join(p.name for p in paths.values())} to {out_dir}")
    if not result.complete:
        raise typer.Exit(130)


def _compare_models(
    config: SimulationConfig, models: tuple[str, ...], out: Path, *, progress: bool
) -> None:
    """``--models``: the same simulation per model, and a report across them."""
    from labelwise.simulate.compare import run_model_comparison, write_comparison

    comparison = run_model_comparison(config, models, progress=progress)
    paths = write_comparison(comparison, out)
    state = "complete" if comparison.complete else "interrupted: partial results"
    typer.echo(f"{state}; wrote {', '.join(p.name for p in paths.values())} to {out}")
    if not comparison.complete:
        raise typer.Exit(130)


def _simulate_task(ctx: typer.Context, task: str, out: Path, *, baseline: bool) -> None:
    """A regression or multi-label simulation (:mod:`labelwise.simulate.task_run`)."""
    from labelwise.simulate.config import parse_seeds
    from labelwise.simulate.task_report import write_task_results
    from labelwise.simulate.task_run import config_from_settings, run_task_simulation

    values = {name: ctx.params[name] for name in (*_SETTINGS, "model") if _given(ctx, name)}
    if "seeds" in values:
        values["seeds"] = parse_seeds(values["seeds"])
    if not baseline:
        values["baseline"] = False
    paths = write_task_results(run_task_simulation(config_from_settings(task, values)), out)
    typer.echo(f"complete; wrote {', '.join(p.name for p in paths.values())} to {out}")


def _simulate_spans(ctx: typer.Context, out: Path, *, baseline: bool) -> None:
    """A span (NER) simulation: a CRF tagger per seed, span-F1 curves per sequence strategy
    (:func:`labelwise.simulate.spans.simulate_spans`), written as the other tasks' report."""
    require_extra("spans", "pycrfsuite")
    from labelwise.errors import InvalidInputError
    from labelwise.simulate.config import parse_seeds
    from labelwise.simulate.spans import simulate_spans, write_span_results
    from labelwise.spans.corpora import available_ner_corpora, load_ner_corpus
    from labelwise.spans.crf import CRFTagger
    from labelwise.spans.selection import DEFAULT_SEQUENCE_STRATEGY, available_sequence_strategies

    p = ctx.params
    dataset = p["dataset"] if _given(ctx, "dataset") else "hironsan"
    corpora = {corpus.name: corpus for corpus in available_ner_corpora()}
    if dataset not in corpora:
        raise InvalidInputError(
            f"--task spans needs an NER corpus as --dataset, one of {', '.join(sorted(corpora))}; "
            f"got {dataset!r}"
        )
    named = (
        [s.strip() for s in p["strategies"].split(",") if s.strip()]
        if _given(ctx, "strategies")
        else [DEFAULT_SEQUENCE_STRATEGY]
    )
    known = available_sequence_strategies()
    unknown = [name for name in named if name not in known]
    if unknown:
        raise InvalidInputError(
            f"unknown sequence strategies {unknown}; for --task spans use: {', '.join(known)}"
        )
    strategies = list(dict.fromkeys((["random"] if baseline else []) + named))
    initial, batch_size, budget = p["initial"], p["batch_size"], p["budget"]
    if batch_size < 1 or not 1 <= initial <= budget:
        raise InvalidInputError(
            f"need batch_size >= 1 and 1 <= initial ({initial}) <= budget ({budget})"
        )
    rounds = (budget - initial) // batch_size
    parsed = parse_seeds(p["seeds"])
    seeds = tuple(range(parsed)) if isinstance(parsed, int) else parsed
    documents = load_ner_corpus(dataset)
    curves = []
    for name in strategies:
        curves += simulate_spans(
            documents,
            CRFTagger,
            name,
            seeds=seeds,
            initial=initial,
            batch_size=batch_size,
            rounds=rounds,
            test_fraction=p["test_size"],
            max_pool=p["pool_size"],
        )
    corpus = corpora[dataset]
    source = f"{corpus.description} (package {corpus.package}, license: {corpus.license})"
    paths = write_span_results(curves, out, dataset=dataset, source=source, model="crf")
    typer.echo(f"complete; wrote {', '.join(q.name for q in paths.values())} to {out}")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given (on the command line or by environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _toml_out(path: Path) -> Path | None:
    from labelwise.simulate.config import tomllib

    data = tomllib.loads(path.read_text())
    out = data.get("simulation", data).get("out")
    return Path(out) if out else None
