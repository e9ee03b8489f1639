"""Query-by-committee: disagreement among M committee members (Seung, Opper & Sompolinsky 1992).

``committee_proba`` has shape (M, N, C): the class probabilities of N pool items under M members
(bootstrap models, ensemble members, or MC Dropout passes). Each function returns N scores,
higher = more disagreement; see Settles, "Active Learning Literature Survey", 2009, sec. 3.2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import scoring_strategy
from labelwise.strategies.bayesian import bald, max_entropy, vote_counts
from labelwise.validation import check_proba


def check_votes(votes: ArrayLike, n_classes: int | None = None) -> tuple[NDArray[np.intp], int]:
    """Check (M, N) class votes: integers in ``[0, n_classes)``; return them and ``n_classes``.

    Integral floats (``1.0``) are accepted; ``n_classes`` defaults to the largest vote plus one.
    """
    arr = np.asarray(votes)
    if arr.ndim != 2:
        raise InvalidInputError(f"votes must be 2-dimensional (M, N), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            raise InvalidInputError("votes must be integer class indices (no NaN, no fractions)")
    elif arr.dtype.kind not in "iu":
        raise InvalidInputError(f"votes must be integer class indices, got dtype {arr.dtype}")
    if arr.shape[0] < 1:
        raise InvalidInputError(f"a committee needs at least one member, got shape {arr.shape}")
    ints = arr.astype(np.intp, copy=False)
    top = int(ints.max()) + 1 if ints.size else 1
    n = top if n_classes is None else int(n_classes)
    if ints.size and (ints.min() < 0 or top > n):
        raise InvalidInputError(f"votes must lie in [0, {n}), got values in [{ints.min()}, {top})")
    return ints, n


def vote_entropy(
    votes_or_committee_proba: ArrayLike, n_classes: int | None = None
) -> NDArray[np.float64]:
    """Entropy of the committee's vote distribution, ``-sum_c (V_c / M) log(V_c / M)``.

    ``V_c`` counts the members voting for class ``c`` (Dagan & Engelson, "Committee-Based
    Sampling for Training Probabilistic Classifiers", ICML 1995). 0 for a unanimous committee,
    ``log min(M, C)`` at most.

    Parameters
    ----------
    votes_or_committee_proba : (M, N) integer votes, or (M, N, C) committee probabilities whose
        argmax over classes is each member's vote.
    n_classes : number of classes for integer votes (default: the largest vote plus one); only
        checked, since classes nobody voted for add nothing to the entropy.

    Examples
    --------
    >>> vote_entropy([[0, 1], [0, 0]]).round(6).tolist()  # unanimous, then split 1:1
    [0.0, 0.693147]
    """
    arr = np.asarray(votes_or_committee_proba)
    if arr.ndim == 3:
        proba = check_proba(arr, "committee_proba", ndim=3)
        votes, n = proba.argmax(axis=2), proba.shape[2]
    else:
        votes, n = check_votes(arr, n_classes)
    counts = vote_counts(votes, n)
    share = counts / votes.shape[0]
    logs = np.log(np.where(counts > 0, share, 1.0))
    return np.asarray(0.0 - (share * logs).sum(axis=1), dtype=np.float64)  # 0.0, never -0.0


def consensus_entropy(committee_proba: ArrayLike) -> NDArray[np.float64]:
    """Entropy of the consensus ``H[(1/M) sum_m p_m] = -sum_c pbar_c log pbar_c``.

    Soft vote entropy (Settles 2009, eq. 3.4 with the consensus probabilities; McCallum & Nigam
    1998 call the mean the committee's consensus).
    """
    return max_entropy(committee_proba, name="committee_proba")


def max_disagreement(committee_proba: ArrayLike) -> NDArray[np.float64]:
    """Mean divergence of the members from the consensus, ``(1/M) sum_m KL(p_m || pbar)``.

    KL-divergence to the mean (McCallum & Nigam, "Employing EM and Pool-Based Active Learning for
    Text Classification", ICML 1998; Settles 2009, eq. 3.5). It equals ``H[pbar] -
    (1/M) sum_m H[p_m]`` (the generalised Jensen-Shannon divergence), computed by the same kernel
    as :func:`labelwise.strategies.bayesian.bald` (here over members instead of samples).
    """
    return bald(committee_proba, name="committee_proba")


VoteEntropy = scoring_strategy("VoteEntropy", "vote_entropy", "committee_proba", vote_entropy)
ConsensusEntropy = scoring_strategy(
    "ConsensusEntropy", "consensus_entropy", "committee_proba", consensus_entropy
)
MaxDisagreement = scoring_strategy(
    "MaxDisagreement", "max_disagreement", "committee_proba", max_disagreement
)
