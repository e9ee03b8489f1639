"""What a benchmark case is: inputs of two sizes, implementations side by side, targets, checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["ours", "peer", "reference"]
Data = dict[str, Any]
Params = dict[str, Any]


class Unavailable(Exception):
    """An implementation that cannot run here (peer not installed, strategy not written yet)."""


@dataclass(frozen=True)
class Impl:
    """One implementation of a case.

    ``prepare(data, params)`` does the untimed work (layout conversion, imports) and returns the
    zero-argument call that is timed. ``check(data, params, output)`` runs in the worker after the
    measurement and returns facts about the output (agreement with a reference, picks...).
    """

    name: str
    role: Role
    prepare: Callable[[Data, Params], Callable[[], Any]]
    check: Callable[[Data, Params, Any], dict[str, Any]] | None = None
    note: str = ""


@dataclass(frozen=True)
class Target:
    """``other`` must take at least ``min_ratio`` times as long as ``ours``."""

    ours: str
    other: str
    min_ratio: float


@dataclass(frozen=True)
class Case:
    """One workload measured across implementations, in ``full`` and ``quick`` sizes.

    ``max_extra_bytes(params)`` bounds the extra memory of every ``ours`` implementation;
    ``compare(params, checks_by_impl)`` runs in the parent over every worker's ``check`` output
    and returns named pass/fail checks that span implementations (same picks, joint MI...).
    """

    name: str
    title: str
    sizes: dict[str, Params]
    make_data: Callable[[Params], Data]
    impls: tuple[Impl, ...]
    targets: tuple[Target, ...] = ()
    max_extra_bytes: Callable[[Params], float] | None = None
    memory_target_text: str = ""
    compare: Callable[[Params, dict[str, dict[str, Any]]], list[dict[str, Any]]] | None = None
    notes: tuple[str, ...] = field(default=())

    def impl(self, name: str) -> Impl:
        for impl in self.impls:
            if impl.name == name:
                return impl
        raise KeyError(f"case {self.name!r} has no implementation {name!r}")
