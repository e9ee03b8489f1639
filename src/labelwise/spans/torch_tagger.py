"""A PyTorch token classifier with MC-Dropout samples: hashed token features, a BiGRU, softmax.

Each token's features (:func:`~labelwise.spans.crf.token_features`) are hashed into
``n_buckets`` rows of a summed embedding bag (no vocabulary, no pretrained vectors: none ship
offline at the token level), read in context by a bidirectional GRU, and classified per token.
Dropout sits after the embeddings and after the GRU, so :func:`labelwise.models.mc_dropout`
turns it into ``S`` stochastic passes: :meth:`TorchTagger.sample_marginals` gives the
``(S, T, K)`` samples :func:`~labelwise.spans.strategies.sequence_bald` reads.

Given ``x``, the tokens' labels are independent (one softmax per token), so the best path is
the per-token argmax and its probability the product of the token maxima, exactly.

torch is imported when a tagger is fitted (``pip install 'labelwise[torch]'``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError, NotFittedError
from labelwise.spans.crf import Features, token_features

__all__ = ["TorchTagger"]


def _hashed(features: list[Features], n_buckets: int) -> list[list[int]]:
    """Each token's feature strings (``key:value``, or ``key`` for a non-zero number) hashed."""
    out = []
    for feats in features:
        names = [
            f"{k}:{v}" if isinstance(v, str) else k
            for k, v in feats.items()
            if isinstance(v, str) or v
        ]
        out.append([zlib.crc32(name.encode()) % n_buckets for name in names])
    return out


def _network(n_buckets: int, dim: int, hidden: int, n_labels: int, dropout: float) -> Any:
    import torch
    from torch import nn

    class BiGRUTagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.EmbeddingBag(n_buckets, dim, mode="sum")
            self.drop_in = nn.Dropout(dropout)
            self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
            self.drop_out = nn.Dropout(dropout)
            self.out = nn.Linear(2 * hidden, n_labels)

        def forward(
            self, ids: torch.Tensor, offsets: torch.Tensor, lengths: list[int]
        ) -> torch.Tensor:
            tokens = self.drop_in(self.embed(ids, offsets))  # (sum T_i, dim)
            padded = nn.utils.rnn.pad_sequence(list(torch.split(tokens, lengths)), batch_first=True)
            packed = nn.utils.rnn.pack_padded_sequence(
                padded, torch.tensor(lengths), batch_first=True, enforce_sorted=False
            )
            hidden_states, _ = self.gru(packed)
            unpacked, _ = nn.utils.rnn.pad_packed_sequence(hidden_states, batch_first=True)
            return self.out(self.drop_out(unpacked))  # (B, T_max, K)

    return BiGRUTagger()


class TorchTagger:
    """A BiGRU token classifier over hashed features, trained with Adam.

    Parameters
    ----------
    n_buckets, dim, hidden : hashed feature rows, embedding width, GRU width per direction.
    dropout : dropout after the embeddings and after the GRU (MC Dropout's rate too).
    epochs, batch_size, lr : Adam training.
    random_state : seeds the initialization, the shuffling and the dropout masks.
    features : the token feature function shared with the CRF.

    Attributes
    ----------
    labels_ : the tags seen in training, ``"O"`` first; columns of the marginals.
    """

    #: The round engine's task type for taggers: a pool of token lists, one tag per token.
    task = "sequence"

    def __init__(
        self,
        n_buckets: int = 2**15,
        dim: int = 48,
        hidden: int = 48,
        dropout: float = 0.3,
        epochs: int = 15,
        batch_size: int = 16,
        lr: float = 0.01,
        random_state: int = 0,
        features: Callable[[Sequence[str]], list[Features]] = token_features,
    ) -> None:
        self.n_buckets = n_buckets
        self.dim = dim
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state
        self.features = features

    def _batch(self, sequences: Sequence[Sequence[str]]) -> tuple[Any, Any, list[int]]:
        import torch

        ids: list[int] = []
        offsets: list[int] = []
        for words in sequences:
            for bucket in _hashed(self.features(words), self.n_buckets):
                offsets.append(len(ids))
                ids.extend(bucket)
        return (
            torch.tensor(ids, dtype=torch.long),
            torch.tensor(offsets, dtype=torch.long),
            [len(words) for words in sequences],
        )

    def fit(self, sequences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> TorchTagger:
        """Train from scratch on token sequences and their tags."""
        import torch

        if len(sequences) != len(tags) or not sequences:
            raise InvalidInputError(
                f"fit needs as many tag sequences as token sequences (>= 1): "
                f"{len(sequences)} and {len(tags)}"
            )
        for i, (words, seq_tags) in enumerate(zip(sequences, tags, strict=True)):
            if len(words) != len(seq_tags):
                raise InvalidInputError(
                    f"sequence {i} has {len(words)} tokens but {len(seq_tags)} tags"
                )
        kept = [i for i, words in enumerate(sequences) if words]
        known = {t for seq in tags for t in seq}
        self.labels_ = (["O"] if "O" in known else []) + sorted(known - {"O"})
        index = {label: k for k, label in enumerate(self.labels_)}
        rng = np.random.default_rng(self.random_state)
        with torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            net = _network(self.n_buckets, self.dim, self.hidden, len(self.labels_), self.dropout)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr)
        generator = torch.Generator().manual_seed(self.random_state)
        from labelwise.models.mc_dropout_torch import seeded_dropout

        net.train()
        with seeded_dropout(net, generator):
            for _ in range(self.epochs):
                order = rng.permutation(kept)
                for start in range(0, len(order), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    ids, offsets, lengths = self._batch([sequences[i] for i in batch])
                    target = torch.tensor([index[t] for i in batch for t in tags[i]])
                    logits = net(ids, offsets, lengths)
                    mask = torch.arange(logits.shape[1])[None] < torch.tensor(lengths)[:, None]
                    loss = torch.nn.functional.cross_entropy(logits[mask], target)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
        self.net_ = net.eval()
        return self

    def _forward(self, sequences: Sequence[Sequence[str]]) -> list[NDArray[np.float64]]:
        import torch

        out = [np.empty((0, len(self.labels_)))] * len(sequences)
        present = [i for i, words in enumerate(sequences) if words]
        if present:
            with torch.no_grad():
                proba = torch.softmax(self.net_(*self._batch([sequences[i] for i in present])), -1)
            for row, i in enumerate(present):
                out[i] = proba[row, : len(sequences[i])].double().numpy()
        return out

    def _fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError("fit the TorchTagger before asking it for tags or marginals")

    def marginals(self, sequences: Sequence[Sequence[str]]) -> list[NDArray[np.float64]]:
        """Per-token softmax ``(T_i, K)`` with dropout off, columns as ``labels_``."""
        self._fitted()
        return self._forward(sequences)

    def sample_marginals(
        self, sequences: Sequence[Sequence[str]], n_samples: int = 10, seed: int = 0
    ) -> list[NDArray[np.float64]]:
        """``S`` MC-Dropout passes per sequence: one ``(S, T_i, K)`` array each, reproducible
        for a ``seed``."""
        import torch

        from labelwise.models.mc_dropout_torch import mc_dropout

        self._fitted()
        if n_samples < 1:
            raise InvalidInputError(f"n_samples must be >= 1, got {n_samples}")
        generator = torch.Generator().manual_seed(seed)
        with mc_dropout(self.net_, generator):
            passes = [self._forward(sequences) for _ in range(n_samples)]
        return [np.stack([p[i] for p in passes]) for i in range(len(sequences))]

    def best_path(
        self, sequences: Sequence[Sequence[str]]
    ) -> tuple[list[list[str]], NDArray[np.float64]]:
        """Per-token argmax and its probability ``prod_t max_k m[t, k]`` (exact here)."""
        marginals = self.marginals(sequences)
        paths = [[self.labels_[k] for k in m.argmax(axis=1)] for m in marginals]
        proba = np.array([float(np.prod(m.max(axis=1))) for m in marginals])
        return paths, proba

    def predict(self, sequences: Sequence[Sequence[str]]) -> list[list[str]]:
        """The best tag sequence of each input."""
        return self.best_path(sequences)[0]
