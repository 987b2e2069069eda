"""Profiles (smoke / quick / paper) resolved in one place.

Each figure has a frozen parameter dataclass whose defaults are the ``paper`` values (quoting the
paper where it says them); ``PROFILES[figure][profile]`` lists what ``smoke`` and ``quick``
change, and a notebook's papermill parameters override both.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

#: smoke: each notebook in seconds (tests); quick: minutes on a 2-core CPU with the phenomenon
#: still visible; paper: the papers' full scale (10 seeds, GPU).
PROFILE_NAMES = ("smoke", "quick", "paper")

#: What each profile changes from the paper defaults, per figure.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "carvalho.fig3b": {
        "paper": {},
        # 2 seeds, a 64-wide MLP and a 2,000-sample test set (see carvalho.fig3a below).
        "quick": {"seeds": 2, "hidden": (64, 64), "n_test": 2000},
        "smoke": {"seeds": 2, "fs": (0.0, 0.2), "sizes": (200,), "hidden": (16,), "n_test": 400,
                  "steps": 60, "n_evals": 8},
    },
    # Liu et al. 2022. Figs. 3, 4 and 5 share one sweep (trained once, cached).
    "liu.fraction": {
        "paper": {},
        # 10 sizes x 2 seeds, 3e3 steps (RQI > 0.95 comes by ~1.5e3 where it comes at all).
        "quick": {"seeds": 2, "sizes": (10, 15, 20, 25, 30, 35, 40, 45, 50, 54), "steps": 3000,
                  "n_evals": 60},
        "smoke": {"seeds": 1, "sizes": (20, 45), "steps": 30, "width": 8, "n_evals": 5,
                  "theory_sizes": (6, 24, 42, 54), "theory_sets": 4},
    },
    "liu.fig2": {
        "paper": {},
        "quick": {"seeds": 1, "steps": 10_000, "resolution": 60},
        "smoke": {"seeds": 1, "steps": 20, "width": 8, "resolution": 12},
    },
    # Fig. 6 is two pages: (a) representation vs decoder lr; (b-d) decoder lr vs weight decay.
    "liu.fig6a": {
        "paper": {"panels": ("a",)},
        # 4 x 4 grid, decade steps; 4e3-step budget (the paper's: 1e5).
        "quick": {"panels": ("a",), "lrs": (1e-5, 1e-4, 1e-3, 1e-2),
                  "emb_lrs": (1e-5, 1e-4, 1e-3, 1e-2), "steps": 4000, "n_evals": 40},
        "smoke": {"panels": ("a",), "lrs": (1e-4, 1e-2), "emb_lrs": (1e-3,), "steps": 20,
                  "width": 8, "n_evals": 5},
    },
    "liu.fig6": {
        "paper": {"panels": ("b", "c", "d")},
        # 5 x 3 grids per panel; 4e3-step budget (the paper's: 1e5).
        "quick": {"panels": ("b", "c", "d"), "lrs": (1e-5, 5.6e-5, 3.2e-4, 1.8e-3, 1e-2),
                  "wds_reg": (0.0, 5.0, 10.0), "wds_cls": (0.0, 10.0, 20.0), "steps": 4000,
                  "n_evals": 40},
        "smoke": {"panels": ("b", "c", "d"), "lrs": (1e-4, 1e-2), "wds_reg": (0.0, 5.0),
                  "wds_cls": (0.0,), "steps": 20, "width": 8, "n_evals": 5},
    },
    # The transformer costs ~13 ms per member-step at p = 17, d = 64 on one CPU core (the
    # paper's p = 53, d = 256 is ~50x more): `quick` is a demonstration, not the paper's scale.
    "liu.fig7": {
        "paper": {},
        "quick": {"p": 17, "d_model": 64, "d_ff": 128, "steps": 4000, "n_evals": 40,
                  "seeds": 1, "dropouts": (0.0, 0.3), "dropout_seeds": 1},
        "smoke": {"p": 5, "d_model": 8, "d_ff": 8, "steps": 12, "n_evals": 4, "seeds": 1,
                  "dropouts": (0.0, 0.3), "dropout_seeds": 1},
    },
    "liu.fig7_phases": {
        "paper": {},
        "quick": {"p": 17, "d_model": 64, "d_ff": 128, "steps": 4000, "n_evals": 30,
                  "lrs": (3e-4, 1e-3, 3e-3), "wds": (0.0, 1.0)},
        "smoke": {"p": 5, "d_model": 8, "d_ff": 8, "steps": 12, "n_evals": 4,
                  "lrs": (1e-3,), "wds": (0.0, 1.0)},
    },
}


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def resolve(figure: str, params_cls: type, profile: str, **overrides: Any) -> Any:
    """``params_cls`` with the paper defaults, then ``profile``'s changes, then ``overrides``.

    Overrides that are ``None`` mean "use the profile's value" (papermill parameters default to
    None). Unknown profile or parameter names raise a ValueError listing the allowed ones.
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"profile must be one of {PROFILE_NAMES}, got {profile!r}")
    if figure not in PROFILES:
        raise ValueError(f"unknown figure {figure!r}; known: {sorted(PROFILES)}")
    fields = {f.name: f for f in dataclasses.fields(params_cls)}
    hints = typing.get_type_hints(params_cls)
    values = {**PROFILES[figure].get(profile, {}),
              **{k: v for k, v in overrides.items() if v is not None}}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {figure}; allowed: {sorted(fields)}")
    return params_cls(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})

# MNIST chapters (Omnigrok / Liu Fig. 8, Li & Sakib Table 3, Carvalho's cluster shift). The
# Omnigrok MLP runs ~150 model-steps/s in an ensemble on 2 CPU cores and its test accuracy
# climbs between ~1e4 and ~1e5 steps, so `quick` keeps the paper's settings but cuts the
# steps: the pages say what that hides.
PROFILES.update({
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
    "lisakib.mnist": {
        "paper": {},
        "quick": {"steps": 2000, "n_evals": 25},
        "smoke": {"rows": ("1K (original)", "cross-entropy", "SGD", "augmentation 0.2",
                           "batch 32"), "hidden": (16,), "steps": 40, "n_evals": 6},
    },
    "carvalho.mnist": {
        "paper": {},
        "quick": {"arch": "small", "resnet_epochs": 3, "seeds": 3, "steps": 2000,
                  "n_evals": 40},
        "smoke": {"arch": "tiny", "resnet_epochs": 1, "max_pool": 600, "n_train": 200,
                  "seeds": 1, "hidden": (16,), "steps": 40, "n_evals": 6},
    },
})

# Carvalho et al. synthetic-data figures (equidistant / equivariant datasets, MLP and
# transformer); "carvalho.fig3b" is above and its design is ShiftSweep's default. `quick`: a
# 64-wide MLP, a 2,000-sample test set and 1-3 seeds, but the full 50k steps: the test jump
# comes at ~5-14k steps, and with 40k steps Definition 3.1's support clause failed by ~2%
# for the latest jumps (100 samples).
_QUICK = {"hidden": (64, 64), "n_test": 2000}
_SMOKE = {"hidden": (16,), "n_test": 400, "steps": 60, "n_evals": 8}
PROFILES.update({
    "carvalho.fig3a": {
        "paper": {"sizes": (100, 200, 500, 1000, 2000), "fs": (1.0,)},
        "quick": {"sizes": (100, 200, 500, 2000), "fs": (1.0,), "seeds": 3, **_QUICK},
        "smoke": {"sizes": (40, 80), "fs": (1.0,), "batch_size": 40, "seeds": 2, **_SMOKE},
    },
    "carvalho.fig3c": {
        "paper": {"sizes": (4000, 5000), "fs": (0.01, 0.05)},
        "quick": {"sizes": (4000, 5000), "fs": (0.01, 0.05), "seeds": 3, **_QUICK},
        "smoke": {"sizes": (400, 500), "fs": (0.01, 0.05), "seeds": 1, **_SMOKE},
    },
    "carvalho.fig4": {
        "paper": {"dataset": "equivariant", "sizes": (100, 500, 2000), "fs": (0.0, 0.2)},
        "quick": {"dataset": "equivariant", "sizes": (100, 500, 2000), "fs": (0.0, 0.2),
                  "seeds": 2, **_QUICK},
        "smoke": {"dataset": "equivariant", "sizes": (40, 80), "fs": (0.0, 0.2),
                  "batch_size": 40, "seeds": 1, **_SMOKE},
    },
    # A transformer step costs ~20 MLP steps on a CPU: one size per dataset, a 16-wide model.
    "carvalho.appendix_fig3b": {
        "paper": {"model": "transformer", "sizes": (500,), "fs": (0.0, 0.2)},
        "quick": {"model": "transformer", "sizes": (500,), "fs": (0.0, 0.2), "seeds": 2,
                  "d_model": 16, "n_heads": 2, "hidden": (64, 64), "n_test": 1000,
                  "steps": 3000, "n_evals": 30},
        "smoke": {"model": "transformer", "sizes": (40,), "fs": (0.0, 0.2), "batch_size": 40,
                  "seeds": 1, "d_model": 8, "n_heads": 2, "hidden": (16,), "n_test": 200,
                  "steps": 20, "n_evals": 5},
    },
    "carvalho.appendix_fig4": {
        "paper": {"model": "transformer", "dataset": "equivariant", "sizes": (500,),
                  "fs": (0.0, 0.2)},
        "quick": {"model": "transformer", "dataset": "equivariant", "sizes": (500,),
                  "fs": (0.0, 0.2), "seeds": 2, "d_model": 16, "n_heads": 2,
                  "hidden": (64, 64), "n_test": 1000, "steps": 3000, "n_evals": 30},
        "smoke": {"model": "transformer", "dataset": "equivariant", "sizes": (40,),
                  "fs": (0.0, 0.2), "batch_size": 40, "seeds": 1, "d_model": 8, "n_heads": 2,
                  "hidden": (16,), "n_test": 200, "steps": 20, "n_evals": 5},
    },
    "carvalho.intensity": {
        "paper": {"sizes": (100, 200, 500, 1000, 2000), "fs": (0.0, 0.01, 0.05, 0.2, 1.0)},
        # One seed per cell in `quick`. Cells that Figs. 3a, 3b and 4 trained with the same
        # settings come from the store (run_reusing): 9 of the 24 runs are new.
        "quick": {"sizes": (100, 500, 2000), "fs": (0.0, 0.05, 0.2, 1.0), "seeds": 1,
                  **_QUICK},
        "smoke": {"sizes": (40, 80), "fs": (0.0, 1.0), "batch_size": 40, "seeds": 2,
                  **_SMOKE},
    },
})

# Li & Sakib, modular arithmetic. A d = 128 transformer costs ~60 ms per model-step on one
# CPU core, and at p <= 47 with a 30% split it memorizes but does not generalize within
# 3,000 steps. `quick` therefore uses p = 31, half of the pairs for training, d = 64 and a 3x
# larger learning rate, where division groks after ~2,500-3,500 steps; with d = 64 a weight
# decay of 1.5 or more already stops learning (see the pages).
_LS_QUICK = {"p": 31, "train_frac": 0.5, "d_model": 64, "lr": 3e-3, "steps": 4000,
             "batch_size": 32, "n_evals": 81}
_LS_SMOKE = {"p": 7, "train_frac": 0.5, "d_model": 8, "steps": 30, "batch_size": 8,
             "n_evals": 7}
PROFILES.update({
    "lisakib.curves": {
        "paper": {},
        "quick": {**_LS_QUICK},
        "smoke": {**_LS_SMOKE, "ops": ("+", "/")},
    },
    "lisakib.sweep": {
        "paper": {},
        # A narrow grid around the one setting that groks within the CPU budget, so that most
        # runs have a delay to correlate; `paper` runs the report's grid.
        "quick": {**_LS_QUICK, "batch_sizes": (16, 32, 64), "noises": (0.0, 0.1),
                  "init_scales": (1.0, 2.0), "lrs": (2e-3, 3e-3), "weight_decays": (0.7, 1.0),
                  "sample": 18},
        "smoke": {**_LS_SMOKE, "batch_sizes": (4, 8), "noises": (0.0, 1.0),
                  "init_scales": (1.0,), "lrs": (1e-3,), "weight_decays": (1.0,), "sample": 3},
    },
    "lisakib.batch": {
        "paper": {},
        # Two learning rates: at 3e-3 a batch of 8 does not train at all.
        "quick": {**_LS_QUICK, "ps": (23, 31), "batch_sizes": (8, 32, 128),
                  "lrs": (1e-3, 3e-3), "weight_decays": (1.0,)},
        "smoke": {**_LS_SMOKE, "ps": (5, 7), "batch_sizes": (4, 8), "lrs": (1e-3,),
                  "weight_decays": (1.0,)},
    },
    "lisakib.landscape": {
        "paper": {},
        # Addition and multiplication comprehend where division groks (Fig. 2); batch 8 at
        # lr 3e-3 does not learn at all, so quick varies the operation instead.
        "quick": {**_LS_QUICK, "ops": ("+", "*", "/"), "batch_sizes": (32,), "seeds": 1,
                  "resolution": 15},
        "smoke": {**_LS_SMOKE, "ops": ("+", "/"), "batch_sizes": (8,), "seeds": 1,
                  "resolution": 3},
    },
    "lisakib.norms": {
        "paper": {},
        "quick": {**_LS_QUICK, "train_fracs": (0.4, 0.5, 0.6), "small_wds": (0.3, 0.5, 1.0),
                  "large_wds": (1.0, 1.5, 2.0)},
        "smoke": {**_LS_SMOKE, "train_fracs": (0.5, 0.7), "small_wds": (0.5,),
                  "large_wds": (1.0, 2.0)},
    },
})
