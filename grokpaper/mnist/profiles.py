"""MNIST chapters (Omnigrok / Liu Fig. 8, Li & Sakib Table 3, Carvalho's cluster shift): what
the smoke and quick profiles change per figure.

``PROFILES[figure][profile]`` overrides the paper defaults of the figure's dataclass,
``PARAMS[figure]`` (``"module:Class"``, named rather than imported: it pulls in torch). Resolved
by :func:`grokpaper.core.profiles.resolve`.
"""

from __future__ import annotations

from typing import Any

PARAMS = {
    "mnist.omnigrok": "grokpaper.mnist.experiments:OmnigrokCurves",
    "mnist.phases": "grokpaper.mnist.experiments:PhaseGrid",
    "mnist.lisakib": "grokpaper.mnist.experiments:LiSakibTable",
    "mnist.cluster_shift": "grokpaper.mnist.cluster_shift:ClusterShift",
}

# The Omnigrok MLP runs ~150 model-steps/s in an ensemble on 2 CPU cores and its test accuracy
# climbs between ~1e4 and ~1e5 steps, so `quick` keeps the paper's settings but cuts the
# steps: the pages say what that hides.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "mnist.omnigrok": {
        "paper": {},
        "quick": {"seeds": 2, "steps": 20_000, "n_evals": 40},
        "smoke": {"seeds": 1, "n_train": 200, "hidden": (16,), "steps": 40, "n_evals": 6},
    },
    "mnist.phases": {
        "paper": {},
        "quick": {"lrs": (1e-4, 1e-3, 1e-2), "weight_decays": (0.03, 0.3, 3.0), "steps": 4000,
                  "n_evals": 41},
        "smoke": {"lrs": (1e-3, 1e-2), "weight_decays": (0.01, 1.0), "n_train": 200,
                  "hidden": (16,), "steps": 40, "n_evals": 6},
    },
    "mnist.lisakib": {
        "paper": {},
        "quick": {"steps": 2000, "n_evals": 25},
        "smoke": {"rows": ("1K (original)", "cross-entropy", "SGD", "augmentation 0.2",
                           "batch 32"), "hidden": (16,), "steps": 40, "n_evals": 6},
    },
    "mnist.cluster_shift": {
        "paper": {},
        "quick": {"arch": "small", "resnet_epochs": 3, "seeds": 3, "steps": 2000,
                  "n_evals": 40},
        "smoke": {"arch": "tiny", "resnet_epochs": 1, "max_pool": 600, "n_train": 200,
                  "seeds": 1, "hidden": (16,), "steps": 40, "n_evals": 6},
    },
}
