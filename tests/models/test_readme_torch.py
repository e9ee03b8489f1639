"""The README's PyTorch example runs as written and learns."""

from __future__ import annotations

import re

import pytest

from tests.test_readme import README, quickstart_code


@pytest.mark.slow  # about 20 s of CPU (90 s on a loaded 2-core machine)
def test_the_pytorch_example_runs_and_learns(capsys) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    code = quickstart_code("PyTorch models")
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    labels, accuracy = re.search(
        r"(\d+) labels, accuracy ([\d.]+)", capsys.readouterr().out
    ).groups()
    assert int(labels) == 70
    assert float(accuracy) > 0.7
