"""labelwise: active learning that makes the model choose what humans label next."""

__version__ = "0.1.0"
