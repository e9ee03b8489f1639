"""``labelwise.spans`` imports light: its optional dependencies load only when used."""

from __future__ import annotations

import subprocess
import sys


def test_import_spans_needs_no_spacy_torch_or_crfsuite() -> None:
    code = (
        "import sys, labelwise;"
        "assert labelwise.spans.span_f1 is not None;"
        "bad = [m for m in ('spacy', 'torch', 'pycrfsuite') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
