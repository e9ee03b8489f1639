"""Quality control of annotations: agreement, aggregation into one label, gold checks.

Pure functions over arrays (numpy and scipy only). Annotations arrive as a long table: an int
array of shape (M, 3) whose rows are ``(item, annotator, label)`` zero-based indices.
"""

from typing import TYPE_CHECKING

from labelwise._lazy import lazy_attributes

if TYPE_CHECKING:
    from labelwise.quality.aggregation import (
        DawidSkeneResult,
        dawid_skene,
        majority_vote,
        vote_shares,
    )
    from labelwise.quality.agreement import (
        annotator_agreement,
        cohen_kappa,
        fleiss_counts,
        fleiss_kappa,
        fleiss_kappa_per_category,
        krippendorff_alpha,
        specific_agreement,
    )
    from labelwise.quality.gold import GoldReport, flag_annotators, gold_report, gold_weights

#: Names served on first use, so that a module of the store that needs one check (numbers,
#: spans) does not import SciPy with the aggregation.
_NAMES = {
    **dict.fromkeys(
        ("DawidSkeneResult", "dawid_skene", "majority_vote", "vote_shares"),
        "labelwise.quality.aggregation",
    ),
    **dict.fromkeys(
        (
            "annotator_agreement",
            "cohen_kappa",
            "fleiss_counts",
            "fleiss_kappa",
            "fleiss_kappa_per_category",
            "krippendorff_alpha",
            "specific_agreement",
        ),
        "labelwise.quality.agreement",
    ),
    **dict.fromkeys(
        ("GoldReport", "flag_annotators", "gold_report", "gold_weights"), "labelwise.quality.gold"
    ),
}
__getattr__ = lazy_attributes(__name__, _NAMES)

__all__ = [
    "DawidSkeneResult",
    "GoldReport",
    "annotator_agreement",
    "cohen_kappa",
    "dawid_skene",
    "flag_annotators",
    "fleiss_counts",
    "fleiss_kappa",
    "fleiss_kappa_per_category",
    "gold_report",
    "gold_weights",
    "krippendorff_alpha",
    "majority_vote",
    "specific_agreement",
    "vote_shares",
]
