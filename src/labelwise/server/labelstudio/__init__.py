"""Label Studio's ML-backend protocol: labelwise orders Label Studio's tasks by uncertainty.

``labelwise ml-backend --store URL --port P`` serves :func:`create_app`; connect it in Label
Studio (Settings > Model, or ``POST /api/ml``) and set the project's sampling to
"Uncertainty sampling". Text and image classification projects are served alike; with
``--label-studio-url`` and ``--label-studio-token`` the backend also pushes fresh predictions
after each retrain and re-reads the annotations it missed (docs/labelstudio.md).
See :mod:`labelwise.server.labelstudio.backend` for what it does, and
:mod:`labelwise.server.labelstudio.security` for who may talk to it and whom it talks to.
"""

from labelwise.server.labelstudio.app import create_app
from labelwise.server.labelstudio.backend import LabelStudioBackend
from labelwise.server.labelstudio.images import ImageFetchError, ImageSource
from labelwise.server.labelstudio.label_config import LabelConfig, parse_label_config
from labelwise.server.labelstudio.security import BasicAuth, ForeignHostError, UnknownProjectError
from labelwise.server.labelstudio.settings import BackendSettings

__all__ = [
    "BackendSettings",
    "BasicAuth",
    "ForeignHostError",
    "ImageFetchError",
    "ImageSource",
    "LabelConfig",
    "LabelStudioBackend",
    "UnknownProjectError",
    "create_app",
    "parse_label_config",
]
