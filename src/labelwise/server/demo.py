"""The demo project: scikit-learn's bundled 8x8 digits as PNG images, ready to label.

:func:`build_demo` renders each digit as a 96x96 PNG (dark ink on white, nearest-neighbour
upscaling), imports them into a store (pool, an eval split with known labels, a few gold
questions), and registers an admin and an annotator with fresh tokens. Nothing is downloaded.

:func:`open_demo_folder` keeps a demo in a named folder (``labelwise-demo`` by default): the
store ``demo.db``, the images it points at and ``tokens.json``; ``resume=True`` reopens it with
its labels and tokens. A build that fails or is interrupted leaves nothing behind, and the
table the images were imported from is removed once they are in the store.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labelwise.errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np

    from labelwise.store import Store

__all__ = [
    "DEMO_FOLDER",
    "DemoProject",
    "build_demo",
    "check_demo_folder",
    "open_demo_folder",
    "render_digit",
]

DEMO_PROJECT = "digits"
#: The folder ``labelwise serve --demo`` keeps its demo in, relative to where it runs.
DEMO_FOLDER = Path("labelwise-demo")
#: What a demo folder holds: the store (with SQLite's side files), the images, the tokens.
_DEMO_FILES = ("demo.db", "demo.db-wal", "demo.db-shm", "images", "tokens.json")


@dataclass(frozen=True)
class DemoProject:
    """The demo's project name and the tokens of its two users (shown once)."""

    project: str
    admin_token: str
    annotator_token: str


def render_digit(pixels: np.ndarray, path: Path, scale: int = 12) -> None:
    """Write an 8x8 digit (values 0..16, 16 = ink) as a ``8 scale`` square greyscale PNG."""
    import numpy as np
    from PIL import Image

    grey = 255 - np.clip(pixels.reshape(8, 8) * 16, 0, 255).astype(np.uint8)
    Image.fromarray(grey, mode="L").resize((8 * scale, 8 * scale), Image.Resampling.NEAREST).save(
        path
    )


def build_demo(
    store: Store,
    folder: Path,
    *,
    n_eval: int = 300,
    n_gold: int = 20,
    seed: int = 0,
    retrain_every: int = 5,
) -> DemoProject:
    """Render the digits into ``folder``, import them, create the users; return their tokens."""
    import numpy as np
    from sklearn.datasets import load_digits

    from labelwise.controller import Controller
    from labelwise.store import add_annotator, import_samples
    from labelwise.store.members import add_member

    digits = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(seed).permutation(len(digits.target))
    rows = []
    for rank, i in enumerate(order):
        name = f"digit-{i:04d}.png"
        render_digit(digits.data[i], folder / name)
        split = "eval" if rank < n_eval else "gold" if rank < n_eval + n_gold else "pool"
        label = str(digits.target[i]) if split != "pool" else ""
        rows.append({"id": f"d{i:04d}", "image": name, "split": split, "label": label})
    table = folder / "digits.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "image", "split", "label"])
        writer.writeheader()
        writer.writerows(rows)
    labels = [str(c) for c in range(10)]
    import_samples(store, table, DEMO_PROJECT, labels=labels, settings={"overlap": 1})
    admin_token, annotator_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    add_annotator(store, "admin", role="admin", token=admin_token)
    add_annotator(store, "annotator", role="annotator", token=annotator_token)
    add_member(store, DEMO_PROJECT, "annotator")
    Controller(store, DEMO_PROJECT).configure(
        strategy="margin", batch_size=20, retrain_every=retrain_every, gold_fraction=0.05
    )
    return DemoProject(DEMO_PROJECT, admin_token, annotator_token)


def open_demo_folder(folder: Path, *, resume: bool) -> tuple[Store, DemoProject]:
    """The demo store kept in ``folder``: built there, or with ``resume`` reopened.

    Raises
    ------
    InvalidInputError
        ``resume`` with no demo in ``folder``; or a new demo where ``folder`` already holds one
        (or other files).
    """
    check_demo_folder(folder, resume=resume)
    from labelwise.store import init_store

    database, tokens = folder / "demo.db", folder / "tokens.json"
    if resume:
        saved = json.loads(tokens.read_text())
        store = init_store(f"sqlite:///{database.resolve()}")
        return store, DemoProject(DEMO_PROJECT, saved["admin"], saved["annotator"])
    with _removed_on_failure(folder):
        store = init_store(f"sqlite:///{database.resolve()}")
        try:
            made = build_demo(store, folder / "images")
            tokens.write_text(
                json.dumps({"admin": made.admin_token, "annotator": made.annotator_token})
            )
            os.chmod(tokens, 0o600)
        except BaseException:
            store.close()
            raise
        (folder / "images" / "digits.csv").unlink()  # imported: the store holds its rows
    return store, made


def check_demo_folder(folder: Path, *, resume: bool) -> None:
    """Refuse, before any work, a ``folder`` that :func:`open_demo_folder` cannot use."""
    if resume:
        if not ((folder / "demo.db").is_file() and (folder / "tokens.json").is_file()):
            raise InvalidInputError(
                f"there is no demo to resume in {folder}/: labelwise serve --demo builds one"
            )
        return
    if (folder / "demo.db").exists():
        raise InvalidInputError(
            f"{folder}/ holds the demo of an earlier run: labelwise serve --demo --resume reopens "
            "it; delete the folder (or pass --demo-dir) for a new one"
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise InvalidInputError(f"{folder}/ is not empty: give --demo-dir a new or empty folder")


@contextlib.contextmanager
def _removed_on_failure(folder: Path) -> Iterator[None]:
    """Remove what a demo build put in ``folder`` (and the folder, if it made it) on failure."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for name in _DEMO_FILES:
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
