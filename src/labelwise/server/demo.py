"""The demo project: scikit-learn's bundled 8x8 digits as PNG images, ready to label.

:func:`build_demo` renders each digit as a 96x96 PNG (dark ink on white, nearest-neighbour
upscaling), imports them into a store (pool, an eval split with known labels, a few gold
questions), and registers an admin and an annotator with fresh tokens. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labelwise.controller import Controller
from labelwise.store import Store, add_annotator, import_samples
from labelwise.store.members import add_member

__all__ = ["DemoProject", "build_demo", "render_digit"]

DEMO_PROJECT = "digits"


@dataclass(frozen=True)
class DemoProject:
    """The demo's project name and the tokens of its two users (shown once)."""

    project: str
    admin_token: str
    annotator_token: str


def render_digit(pixels: np.ndarray, path: Path, scale: int = 12) -> None:
    """Write an 8x8 digit (values 0..16, 16 = ink) as a ``8 scale`` square greyscale PNG."""
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
    from sklearn.datasets import load_digits

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
