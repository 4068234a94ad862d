"""Check ``pyod:<Name>`` parameters before any work, with the detector's own checks.

pyod declares no parameter constraints and checks most values only inside ``fit`` or even
``decision_function`` (``pyod:KNN.method=foo`` fits, then scores ``None``). So a setting whose
parameters differ from pyod's defaults is constructed, fitted on a small random sample and
scored here, at plan time; anything it raises (or a score that is not finite numbers) is one
error line naming the parameters. Kept apart from ``pyod_adapter`` on purpose: this check
decides no numbers, so it is not part of any trial id.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from novelbench.errors import NovelbenchError

#: the sample the check fits on: enough rows for neighbour counts and subsampling defaults
SAMPLE_SHAPE = (256, 32)


def check_pyod_params(cls: type, params: dict[str, Any], label: str) -> None:
    """No-op for other methods and for pyod's defaults; else fit and score a tiny sample."""
    from novelbench.methods.pyod_adapter import PyODDetector

    if not (isinstance(cls, type) and issubclass(cls, PyODDetector)):
        return
    theirs = {k: v for k, v in params.items() if k in cls.pyod_params}
    if not theirs:
        return
    defaults = cls.param_defaults()
    x = np.random.default_rng(0).normal(size=SAMPLE_SHAPE)
    try:
        detector = cls.detector_cls(**{k: theirs.get(k, defaults[k]) for k in cls.pyod_params})
        detector.fit(x)
        scores = detector.decision_function(x[:16])
        if scores is None or not np.isfinite(np.asarray(scores, dtype=np.float64)).all():
            raise ValueError(f"it scored {type(scores).__name__ if scores is None else 'non-finite values'}")
    except Exception as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in theirs.items())
        raise NovelbenchError(f"{label} rejects {shown}: {type(exc).__name__}: {exc} "
                              f"(checked by fitting a {SAMPLE_SHAPE[0]} x {SAMPLE_SHAPE[1]} random sample before any trial)") from None
