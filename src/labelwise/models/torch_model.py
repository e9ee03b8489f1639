"""PyTorch classifiers as labelwise models: training loop, MC Dropout samples, embeddings, BADGE.

The module must output logits of shape (N, C). ``fit`` trains a copy of it (Adam, cross-entropy);
``sample_proba`` runs T stochastic passes with MC Dropout (Gal & Ghahramani 2016); ``embed`` reads
the input of the last ``nn.Linear`` (the penultimate activations) with a forward hook;
``grad_embed`` is BADGE's gradient embedding (Ash et al. 2020).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from torch.nn import functional as F

from labelwise.errors import InvalidInputError
from labelwise.models._labels import (
    check_classes,
    check_labels,
    encode_labels,
    n_rows,
    require_fitted,
)
from labelwise.models.mc_dropout_torch import mc_dropout, seeded_dropout, split_at_first_dropout
from labelwise.models.torch_nets import InitScheme, check_init_scheme, reset_parameters
from labelwise.validation import check_rng


def _batches(order: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Split ``order`` into batches, folding a last batch of one item into the one before
    (BatchNorm cannot train on a single item)."""
    parts = list(torch.split(order, batch_size))
    if len(parts) > 1 and parts[-1].numel() == 1:
        parts[-2:] = [torch.cat(parts[-2:])]
    return parts


class TorchModel:
    """Adapter for an ``nn.Module`` classifier that outputs logits.

    Parameters
    ----------
    module : nn.Module
        The network; never changed itself: ``fit`` trains a deep copy, ``module_``.
    classes : array-like of shape (C,)
        The label space, one label per output logit, in order.
    epochs, batch_size, lr, weight_decay :
        Training: ``epochs`` passes (at least; see ``min_steps``) of Adam(lr, weight_decay) over
        shuffled mini-batches. Adam's
        weight decay adds ``weight_decay * w`` to each gradient: an L2 penalty ``lambda *
        sum(w**2)`` on the loss (Keras's ``l2(lambda)``) is ``weight_decay = 2 * lambda``.
    min_steps : int
        Optimizer steps each fit takes at least: on a small labeled set the passes grow to
        ``ceil(min_steps / batches per pass)``. Fixed epochs alone leave a network trained on the
        first labels of active learning barely moved from its initial weights (10 passes over
        30 items are 10 steps: 0.18-0.43 accuracy on 30 digits where logistic regression
        reaches 0.7), and its uncertainty then ranks nothing. 0 trains exactly ``epochs``
        passes (as a paper's set-up may need).
    validation_fraction : float
        Early stopping: hold out this fraction of the labeled rows (at least one, drawn by
        ``random_state``), train on the rest, and keep the weights of the pass with the lowest
        held-out loss, stopping after ``patience`` passes without improvement. 0 (default)
        trains on every label: with the few dozen labels active learning starts from, each
        held-out label is one the model never learns from. Fits on fewer than
        ``2 / validation_fraction`` rows train on every label too.
    patience : int
        Passes without a lower held-out loss before early stopping ends the fit.
    decay_params : sequence of str, optional
        Names (as in ``module.named_parameters()``) of the parameters the weight decay applies
        to; default all of them. Gal et al. (2017) regularise one dense kernel only
        (:data:`~labelwise.models.torch_nets.GAL_CNN_DECAYED`).
    init : "pytorch" or "glorot_uniform"
        The scheme that draws the initial weights when ``random_state`` is given
        (:func:`~labelwise.models.torch_nets.reset_parameters`): PyTorch's defaults, or Keras's
        (Glorot-uniform weights, zero biases) to reproduce a Keras paper.
    warm_start : bool
        Keep the weights between fits (the next fit continues from them). Otherwise every fit
        starts from fresh weights.
    device : str
        Where the network runs ("cpu", "cuda").
    random_state : int, numpy Generator or None
        Seeds the initial weights (re-drawn with PyTorch's default schemes), the shuffling and the
        dropout masks, through ``torch.Generator`` objects: the same seed gives the same model.
        With None the initial weights are those of ``module`` and the rest is fresh entropy.
        On CUDA, bitwise repeatable training also needs the (global, so left to the caller)
        ``torch.use_deterministic_algorithms(True)``: cuDNN's default convolution gradients are
        not deterministic.
    embedding_layer : str, optional
        Name (as in ``module.named_modules()``) of the layer whose input ``embed`` returns;
        default: the last ``nn.Linear`` registered.
    inference_batch_size : int
        Rows per forward pass at prediction time.

    Notes
    -----
    Other task types reuse the training loop through two hooks: :meth:`_encode_targets` (the
    answers as a target tensor, and the outputs the module must give) and :meth:`_loss`
    (:mod:`labelwise.models.torch_tasks`).
    """

    #: The output-shape rule an error quotes, formatted with the outputs needed ``n``.
    _output_rule: ClassVar[str] = "classes has {n} labels: it must output one logit per class"

    def __init__(
        self,
        module: nn.Module,
        classes: ArrayLike,
        *,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        min_steps: int = 200,
        validation_fraction: float = 0.0,
        patience: int = 10,
        decay_params: Sequence[str] | None = None,
        init: InitScheme = "pytorch",
        warm_start: bool = True,
        device: str = "cpu",
        random_state: np.random.Generator | int | None = None,
        embedding_layer: str | None = None,
        inference_batch_size: int = 1024,
    ):
        if not isinstance(module, nn.Module):
            kind = type(module).__name__
            raise InvalidInputError(f"module must be a torch nn.Module, got {kind}")
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
        if isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 0:
            raise InvalidInputError(f"min_steps must be a non-negative int, got {min_steps!r}")
        if not 0.0 <= validation_fraction < 1.0:
            raise InvalidInputError(
                f"validation_fraction must lie in [0, 1), got {validation_fraction!r}"
            )
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise InvalidInputError(f"patience must be a positive int, got {patience!r}")
        check_init_scheme(init)
        self.module = module
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.classes = classes
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.min_steps = min_steps
        self.decay_params = None if decay_params is None else tuple(decay_params)
        self.init = init
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.embedding_layer = embedding_layer
        self.inference_batch_size = inference_batch_size

    # ----------------------------------------------------------------------------- training
    def fit(self, X: Any, y: ArrayLike) -> TorchModel:
        """Train on ``(X, y)`` (continuing from the current weights with ``warm_start``)."""
        targets, n_outputs = self._encode_targets(y, n_rows(X))
        if not (self.warm_start and hasattr(self, "module_")):
            self.rng_ = check_rng(self.random_state)
            self.module_ = self._initial_module()
        inputs = self._as_tensor(X)
        self._check_output_size(inputs[:2], n_outputs)
        shuffle, dropout = self._generators(self.rng_)
        train, held = self._split_validation(len(targets))
        optimizer = torch.optim.Adam(self._param_groups(), lr=self.lr)
        self.module_.train()
        losses: list[float] = []
        val_losses: list[float] = []
        best: tuple[float, dict[str, torch.Tensor]] | None = None
        with seeded_dropout(self.module_, dropout):
            for _ in range(self.epochs_for(len(train))):
                total = 0.0
                order = train[torch.randperm(len(train), generator=shuffle)]
                for rows in _batches(order, self.batch_size):
                    xb, yb = inputs[rows].to(self.device), targets[rows].to(self.device)
                    optimizer.zero_grad()
                    loss = self._loss(self.module_(xb), yb)
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * len(rows)
                losses.append(total / len(train))
                if held is None:
                    continue
                val_losses.append(self._held_out_loss(inputs[held], targets[held]))
                if best is None or val_losses[-1] < best[0]:
                    best = (val_losses[-1], copy.deepcopy(self.module_.state_dict()))
                elif len(val_losses) - 1 - val_losses.index(best[0]) >= self.patience:
                    break
        if best is not None:
            self.module_.load_state_dict(best[1])
        self.module_.eval()
        self.loss_curve_ = losses
        self.validation_curve_ = val_losses
        self.validation_rows_ = np.empty(0, np.intp) if held is None else held.numpy()
        return self

    def _split_validation(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training rows and held-out rows (None: no early stopping on ``n`` rows)."""
        n_held = round(self.validation_fraction * n)
        if self.validation_fraction == 0.0 or n * self.validation_fraction < 2 or n_held >= n:
            return torch.arange(n), None
        order = torch.as_tensor(self.rng_.permutation(n))
        return order[n_held:], order[:n_held]

    @torch.no_grad()
    def _held_out_loss(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """The loss on the held-out rows in eval mode (dropout off), training mode restored."""
        self.module_.eval()
        loss = float(self._loss(self.module_(x.to(self.device)), y.to(self.device)))
        self.module_.train()
        return loss

    def _encode_targets(self, y: ArrayLike, n: int) -> tuple[torch.Tensor, int]:
        """The training targets for ``fit`` and the outputs per row the module must give.

        Here: class indices into ``classes`` (stored as ``classes_``), one logit per class.
        """
        classes = check_classes(self.classes)
        labels = check_labels(y, n)
        self.classes_ = classes
        return torch.as_tensor(encode_labels(labels, classes), dtype=torch.long), classes.size

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The mean training loss of a batch: cross-entropy of the logits."""
        return F.cross_entropy(outputs, targets)

    def epochs_for(self, n_items: int) -> int:
        """Passes a fit over ``n_items`` makes: ``epochs``, or more to take ``min_steps`` steps."""
        per_pass = max(1, len(_batches(torch.arange(n_items), self.batch_size)))
        return max(self.epochs, -(-self.min_steps // per_pass))

    def _param_groups(self) -> list[dict[str, Any]]:
        """Adam's parameter groups: the decayed parameters, and (if any) the free ones."""
        named = dict(self.module_.named_parameters())
        if self.decay_params is None:
            return [{"params": list(named.values()), "weight_decay": self.weight_decay}]
        unknown = sorted(set(self.decay_params) - set(named))
        if unknown:
            raise InvalidInputError(
                f"decay_params names no parameter of the module: {', '.join(unknown)}; "
                f"parameters: {', '.join(named)}"
            )
        decayed = set(self.decay_params)
        groups = [
            {
                "params": [p for n, p in named.items() if n in decayed],
                "weight_decay": self.weight_decay,
            },
            {"params": [p for n, p in named.items() if n not in decayed], "weight_decay": 0.0},
        ]
        return [g for g in groups if g["params"]]

    def _initial_module(self) -> nn.Module:
        module = copy.deepcopy(self.module).to("cpu")
        if self.random_state is not None:
            generator = torch.Generator().manual_seed(int(self.rng_.integers(2**62)))
            reset_parameters(module, generator, self.init)
        return module.to(self.device)

    def _generators(self, rng: np.random.Generator) -> tuple[torch.Generator, torch.Generator]:
        """A CPU generator (shuffling) and one on the device (dropout masks) seeded from rng."""
        seed = int(rng.integers(2**62))
        cpu = torch.Generator().manual_seed(seed)
        if torch.device(self.device).type == "cpu":
            return cpu, cpu
        return cpu, torch.Generator(device=self.device).manual_seed(seed)

    def _as_tensor(self, X: Any) -> torch.Tensor:
        dtype = next(iter(self.module_.parameters())).dtype
        if isinstance(X, torch.Tensor):
            tensor = X.detach().to("cpu", dtype)
        else:
            array = np.asarray(X)
            if array.dtype.kind not in "fiub":
                raise InvalidInputError(f"X must be numeric for a TorchModel, got {array.dtype}")
            tensor = torch.as_tensor(array).to(dtype)
        if not torch.isfinite(tensor).all():
            raise InvalidInputError("X contains NaN or infinite values")
        return tensor

    def _check_output_size(self, sample: torch.Tensor, n_outputs: int) -> None:
        self.module_.eval()
        with torch.no_grad():
            out = self.module_(sample.to(self.device))
        if out.dim() != 2 or out.shape[1] != n_outputs:
            raise InvalidInputError(
                f"the module outputs shape {tuple(out.shape)} but "
                + self._output_rule.format(n=n_outputs)
            )

    # ---------------------------------------------------------------------------- inference
    def _chunks(self, X: Any) -> Iterator[torch.Tensor]:
        inputs = self._as_tensor(X)
        for rows in torch.split(torch.arange(len(inputs)), self.inference_batch_size):
            yield inputs[rows].to(self.device)

    @torch.no_grad()
    def _forward(self, X: Any, embed: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (N, C) in eval mode, and the embedding layer's inputs (N, d) when asked."""
        require_fitted(self, "module_")
        self.module_.eval()
        captured: list[torch.Tensor] = []
        handle = None
        if embed:
            layer = self._embedding_module()
            handle = layer.register_forward_pre_hook(
                lambda _m, args: captured.append(args[0].detach().flatten(1))
            )
        try:
            logits = [self.module_(x) for x in self._chunks(X)]
        finally:
            if handle is not None:
                handle.remove()
        h = torch.cat(captured).cpu() if embed else None
        return torch.cat(logits).cpu(), h

    def _embedding_module(self) -> nn.Module:
        named = dict(self.module_.named_modules())
        if self.embedding_layer is not None:
            if self.embedding_layer not in named:
                raise InvalidInputError(
                    f"no layer named {self.embedding_layer!r}; layers: {', '.join(named)}"
                )
            return named[self.embedding_layer]
        linears = [m for m in named.values() if isinstance(m, nn.Linear)]
        if not linears:
            raise InvalidInputError("the module has no nn.Linear: name the embedding_layer")
        return linears[-1]

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Class probabilities ``softmax(logits)`` of shape (N, C) with the network in eval mode."""
        logits, _ = self._forward(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def sample_proba(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        """MC Dropout: (K, N, C) probabilities from K passes with dropout on, all else in eval.

        The masks come from ``rng`` (default: the model's own generator, seeded by
        ``random_state``), so a seed gives the same samples. In an ``nn.Sequential`` the layers
        before the first dropout layer are deterministic, so they run once per input and only
        the rest runs K times (:func:`split_at_first_dropout`): the same samples as K full
        passes, at a fraction of the cost for a convolutional trunk.
        """
        outputs = self._sample_outputs(X, n_samples, rng)
        return torch.softmax(outputs.double(), dim=2).numpy()

    @torch.no_grad()
    def _sample_outputs(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None
    ) -> torch.Tensor:
        """The raw outputs (K, N, C) of K MC Dropout passes (see :meth:`sample_proba`)."""
        require_fitted(self, "module_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise InvalidInputError(f"n_samples must be a positive int, got {n_samples!r}")
        _, generator = self._generators(self.rng_ if rng is None else check_rng(rng))
        self.module_.eval()
        with mc_dropout(self.module_, generator):
            head, tail = split_at_first_dropout(self.module_)
            parts = []
            for x in self._chunks(X):
                h = head(x)  # deterministic: no dropout before the tail, all else in eval mode
                parts.append(torch.stack([tail(h) for _ in range(n_samples)]).cpu())
        return torch.cat(parts, dim=1)

    def embed(self, X: Any) -> NDArray[np.float64]:
        """Penultimate activations: the input of the embedding layer, shape (N, d), eval mode."""
        _, h = self._forward(X, embed=True)
        assert h is not None
        return h.double().numpy()

    def grad_embed(self, X: Any) -> NDArray[np.float64]:
        """BADGE's gradient embedding (Ash et al. 2020), shape (N, C * d).

        The gradient of the cross-entropy loss at the predicted label ``yhat = argmax p`` with
        respect to the last layer's weights: ``g_x = (p - e_yhat) ⊗ h`` (row-major, class by
        class), with ``h`` the penultimate activations. Needs the embedding layer to be the final
        ``nn.Linear`` that outputs the logits.
        """
        logits, h = self._forward(X, embed=True)
        assert h is not None
        layer = self._embedding_module()
        if not isinstance(layer, nn.Linear) or layer.out_features != logits.shape[1]:
            raise InvalidInputError(
                "grad_embed needs the embedding layer to be the final nn.Linear giving the logits"
            )
        p = torch.softmax(logits.double(), dim=1)
        residual = p - F.one_hot(p.argmax(dim=1), p.shape[1]).double()
        grads = residual[:, :, None] * h.double()[:, None, :]
        return grads.reshape(len(p), -1).numpy()

    def __repr__(self) -> str:
        return (
            f"TorchModel({type(self.module).__name__}, classes={self.classes!r}, "
            f"epochs={self.epochs}, min_steps={self.min_steps}, "
            f"validation_fraction={self.validation_fraction}, random_state={self.random_state!r})"
        )
