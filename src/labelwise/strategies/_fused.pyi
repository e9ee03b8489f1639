from typing import Any

def score(
    proba: Any,
    out: Any,
    start: int,
    stop: int,
    kind: int,
    lo: float,
    hi: float,
    sum_in_double: bool,
    /,
) -> bool: ...
