"""Acquisition strategies: arrays in, scores and selected pool indices out.

Scoring functions (``entropy(proba) -> (N,)`` ...) are pure and chunkable; every strategy also
has a :class:`Strategy` object with ``select(inputs, batch_size, rng)`` and a registry name.
"""

from labelwise.strategies.auto import Auto
from labelwise.strategies.badge import badge
from labelwise.strategies.base import (
    INPUT_NAMES,
    TASK_TYPES,
    PoolInputs,
    ScoringStrategy,
    Selection,
    Strategy,
    available_strategies,
    get_strategy,
    register_strategy,
    strategy_tasks,
)
from labelwise.strategies.batchbald import batch_mutual_information, batchbald
from labelwise.strategies.bayesian import (
    bald,
    expected_entropy,
    max_entropy,
    mean_std,
    variation_ratios,
)
from labelwise.strategies.chunking import score_in_chunks
from labelwise.strategies.clustering import kmeans, kmeans_plus_plus
from labelwise.strategies.committee import consensus_entropy, max_disagreement, vote_entropy
from labelwise.strategies.coreset import coreset
from labelwise.strategies.egl import expected_gradient_length
from labelwise.strategies.hybrid import (
    class_balanced,
    cluster_margin,
    information_density,
    uncertainty_coreset,
)
from labelwise.strategies.multilabel import (
    adaptive,
    binary_relevance_uncertainty,
    label_cardinality_inconsistency,
    max_margin_uncertainty,
    mmc,
)
from labelwise.strategies.random_sampling import Random, random
from labelwise.strategies.regression import (
    committee_variance,
    emcm,
    gp_std,
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    predictive_variance,
)
from labelwise.strategies.stream import (
    FixedThreshold,
    RandomizedVariableUncertainty,
    VariableUncertainty,
)
from labelwise.strategies.topk import StreamingTopK, top_k
from labelwise.strategies.uncertainty import entropy, least_confidence, margin, ratio

__all__ = [
    "INPUT_NAMES",
    "TASK_TYPES",
    "Auto",
    "FixedThreshold",
    "PoolInputs",
    "Random",
    "RandomizedVariableUncertainty",
    "ScoringStrategy",
    "Selection",
    "Strategy",
    "StreamingTopK",
    "VariableUncertainty",
    "adaptive",
    "available_strategies",
    "badge",
    "bald",
    "batch_mutual_information",
    "batchbald",
    "binary_relevance_uncertainty",
    "class_balanced",
    "cluster_margin",
    "committee_variance",
    "consensus_entropy",
    "coreset",
    "emcm",
    "entropy",
    "expected_entropy",
    "expected_gradient_length",
    "get_strategy",
    "gp_std",
    "greedy_sampling_x",
    "greedy_sampling_y",
    "improved_greedy_sampling",
    "information_density",
    "kmeans",
    "kmeans_plus_plus",
    "label_cardinality_inconsistency",
    "least_confidence",
    "margin",
    "max_disagreement",
    "max_entropy",
    "max_margin_uncertainty",
    "mean_std",
    "mmc",
    "predictive_variance",
    "random",
    "ratio",
    "register_strategy",
    "score_in_chunks",
    "strategy_tasks",
    "top_k",
    "uncertainty_coreset",
    "variation_ratios",
    "vote_entropy",
]
