"""Methods; importing this package registers the built-in ones."""

from novelbench.methods import ae, crbnd, crbnd_plus, ocsvm  # noqa: F401
from novelbench.methods.base import Detector  # noqa: F401
