"""``labelwise project`` and ``labelwise round``: the team loop from a script or a terminal.

* ``project create NAME --task text|image|tabular --labels a,b,c
  [--answer label|number|labels|spans]``: a new, empty project; ``--answer number``
  (regression: ``--min``, ``--max``, ``--step``, ``--aggregation median|mean``, no labels
  needed), ``labels`` (multi-label: annotators pick every label that applies) or ``spans``
  (named entities: ``--task text``, the labels are the entity types, e.g. PER,ORG,LOC);
* ``project set NAME --strategy S [--model M] ...``: loop settings, checked first: a strategy its
  model cannot serve is refused (exit 2) with what is missing and which model supplies it;
  ``--model auto`` picks a model that serves the strategy;
* ``round run NAME [--json]``: one round now, through the round engine: model version,
  strategy, picks and the seconds each step took; a failed round exits non-zero.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

import typer

from labelwise.cli import app, print_error
from labelwise.cli.store_cmd import AS_JSON, STORE

if TYPE_CHECKING:
    from labelwise.store.schema import AnswerKind, TaskType

project_app = typer.Typer(
    help="Projects of the store: create one, change its loop settings.", no_args_is_help=True
)
round_app = typer.Typer(help="Rounds of active learning: run one now.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(round_app, name="round")

#: The --task values and the store's task types.
TASKS = {
    "text": "text_classification",
    "image": "image_classification",
    "tabular": "tabular_classification",
}


@project_app.command("create")
def create(
    name: str = typer.Argument(..., metavar="NAME", help="The project's name."),
    task: str = typer.Option(
        ..., "--task", help="What is labeled: text, image or tabular (numeric columns)."
    ),
    labels: str = typer.Option(
        "",
        "--labels",
        metavar="A,B,C",
        help="The label space, comma separated (not needed with --answer number).",
    ),
    answer: str = typer.Option(
        "label",
        "--answer",
        help="What annotators answer: label (one), number (regression), labels (several) or "
        "spans (named entities in a text).",
    ),
    minimum: float | None = typer.Option(None, "--min", help="Smallest number (--answer number)."),
    maximum: float | None = typer.Option(None, "--max", help="Largest number (--answer number)."),
    step: float | None = typer.Option(
        None, "--step", help="Numbers are multiples of this from --min (--answer number)."
    ),
    aggregation: str | None = typer.Option(
        None, "--aggregation", help="median (default) or mean of the numbers (--answer number)."
    ),
    overlap: int = typer.Option(1, "--overlap", help="Annotators per sample."),
    store: str | None = STORE,
) -> None:
    """Create an empty project; then import its samples (labelwise import)."""
    from labelwise.store import StoreError, create_project, init_store
    from labelwise.store.schema import ANSWER_KINDS

    if task not in TASKS:
        print_error(f"--task must be text, image or tabular, got {task!r}")
        raise typer.Exit(2)
    if answer not in ANSWER_KINDS:
        print_error(f"--answer must be label, number, labels or spans, got {answer!r}")
        raise typer.Exit(2)
    if answer == "spans" and task != "text":
        print_error(f"--answer spans tags entities in texts: use --task text, not {task!r}")
        raise typer.Exit(2)
    rules = {"min": minimum, "max": maximum, "step": step, "aggregation": aggregation}
    given = {k: v for k, v in rules.items() if v is not None}
    if given and answer != "number":
        print_error(f"--{', --'.join(given)} apply to --answer number only")
        raise typer.Exit(2)
    label_space = [x.strip() for x in labels.split(",") if x.strip()]
    settings: dict[str, object] = {"overlap": overlap}
    if given:
        settings["answer"] = given
    opened = init_store(store)  # a new store is created, an old one upgraded
    try:
        task_type = cast("TaskType", TASKS[task])
        kind = cast("AnswerKind", answer)
        info = create_project(opened, name, label_space, task_type, settings, answer_kind=kind)
    except StoreError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    finally:
        opened.close()
    if answer == "number":
        checked = info.settings["answer"]
        bounds = ", ".join(
            f"{k} {checked[k]:g}" for k in ("min", "max", "step") if checked[k] is not None
        )
        typer.echo(
            f"project {info.name!r} created: {task}, numeric answers"
            + (f" ({bounds})" if bounds else "")
            + f", aggregated by {checked['aggregation']}"
        )
        return
    what = {"labels": "label sets over", "spans": "entity spans of"}.get(answer, "labels")
    typer.echo(f"project {info.name!r} created: {task}, {what} {', '.join(label_space)}")


@project_app.command("set")
def set_loop(
    name: str = typer.Argument(..., metavar="NAME", help="The project's name."),
    strategy: str | None = typer.Option(
        None, "--strategy", help="Acquisition strategy (labelwise strategies lists them)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="auto, logreg, committee or mc_dropout (auto: one that serves it)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Samples queued ahead of the team, at least."
    ),
    retrain_every: int | None = typer.Option(
        None, "--retrain-every", help="New labels after which a round runs."
    ),
    lookahead: int | None = typer.Option(
        None, "--lookahead", help="Further samples queued per active annotator."
    ),
    features: str | None = typer.Option(
        None, "--features", help="Text features: auto, minilm or hashed."
    ),
    diversity: str | None = typer.Option(
        None,
        "--diversity",
        help="auto (spread out batches of 50+ from uncertainty strategies), on or off.",
    ),
    store: str | None = STORE,
    as_json: bool = AS_JSON,
) -> None:
    """Change a project's loop settings; nothing is stored when one is refused."""
    from labelwise.controller import loop_settings
    from labelwise.errors import InvalidInputError
    from labelwise.store import get_project, open_store
    from labelwise.store.members import update_settings

    given = {
        "strategy": strategy,
        "model": model,
        "batch_size": batch_size,
        "retrain_every": retrain_every,
        "lookahead": lookahead,
        "features": features,
        "diversity": diversity,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    opened = open_store(store)
    try:
        try:
            info = get_project(opened, name)
            new = loop_settings(info.settings, answer_kind=info.answer_kind, **changes)
        except InvalidInputError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None
        update_settings(opened, name, {"loop": new.to_dict()}, actor="cli")
    finally:
        opened.close()
    if as_json:
        typer.echo(
            json.dumps(
                {**new.to_dict(), "resolved_model": new.model_for(info.answer_kind)}, indent=2
            )
        )
        return
    typer.echo(
        f"project {name!r}: strategy {new.strategy}, model {new.model_for(info.answer_kind)}"
        + (" (auto)" if new.model == "auto" else "")
        + f", batch {new.batch_size}, retrain every {new.retrain_every} labels"
    )


@round_app.command("run")
def run_round(
    name: str = typer.Argument(..., metavar="NAME", help="The project's name."),
    store: str | None = STORE,
    as_json: bool = AS_JSON,
) -> None:
    """Run one round now: fit, select, measure, re-order the queue."""
    from labelwise.controller import Controller
    from labelwise.store import open_store

    opened = open_store(store)
    try:
        report = Controller(opened, name).run_round(actor="cli")
    finally:
        opened.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    version = report.model_version or "no model yet"
    how = " (cold start)" if report.cold else ""
    typer.echo(
        f"round {report.number}: {report.strategy}{how}, model {report.model} {version}, "
        f"{report.n_labeled} labels, {report.queued} tasks queued"
    )
    if report.picks:
        shown = ", ".join(report.picks[:10]) + (" ..." if len(report.picks) > 10 else "")
        typer.echo(f"picks: {shown}")
    steps = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in report.timings.items())
    typer.echo(f"took: {steps}")
    if report.eval_accuracy is not None:
        typer.echo(f"eval accuracy {report.eval_accuracy:.3f}")
    if report.stop.stop:
        typer.echo(f"stopped: {report.stop.reason}")
