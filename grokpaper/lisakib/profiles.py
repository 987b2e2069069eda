"""Li & Sakib, modular arithmetic: what the smoke and quick profiles change per figure.

``PROFILES[figure][profile]`` overrides the paper defaults of the figure's dataclass,
``PARAMS[figure]`` (``"module:Class"``, named rather than imported: it pulls in torch). Resolved
by :func:`grokpaper.core.profiles.resolve`.
"""

from __future__ import annotations

from typing import Any

PARAMS = {
    "lisakib.curves": "grokpaper.lisakib.figures:CurvesParams",
    "lisakib.sweep": "grokpaper.lisakib.figures:SweepParams",
    "lisakib.batch": "grokpaper.lisakib.figures:BatchGridParams",
    "lisakib.landscape": "grokpaper.lisakib.figures:LandscapeParams",
    "lisakib.norms": "grokpaper.lisakib.figures:NormParams",
}

#: A d = 128 transformer costs ~60 ms per model-step on one CPU core, and at p <= 47 with a
#: 30% split it memorizes but does not generalize within 3,000 steps. `quick` therefore uses
#: p = 31, half of the pairs for training, d = 64 and a 3x larger learning rate, where
#: division groks after ~2,500-3,500 steps; with d = 64 a weight decay of 1.5 or more already
#: stops learning (see the pages). Batch 32, not the report's 512: at p = 31 with half of the
#: pairs (465) a batch of 512 is the full batch, and full batch (measured, d = 64, 4,000 steps,
#: division) fits the training set by step 200 but leaves validation at 5% (lr 1e-3) or lets it
#: rise only from step ~3,000 to 0.3-0.5 (lr 3e-3): the late rise is past the budget, and a
#: full-batch step costs ~24 ms CPU per member against ~5 ms for a batch of 32.
QUICK = {"p": 31, "train_frac": 0.5, "d_model": 64, "lr": 3e-3, "steps": 4000,
         "batch_size": 32, "n_evals": 81}
#: Pages whose late rise lies near step 4,000 run 6,000 steps, evaluated every 50 as QUICK.
_MARGIN = {"steps": 6000, "n_evals": 121}
SMOKE = {"p": 7, "train_frac": 0.5, "d_model": 8, "steps": 30, "batch_size": 8, "n_evals": 7}

PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "lisakib.curves": {
        "paper": {},
        # The report's 30/70 split (the claim is about it). Measured at this size (4,000 and
        # 10,000 steps): addition and multiplication fit the training set by step 200 and
        # their validation accuracy rises late, to 95% at steps 3,800-3,900; subtraction and
        # division fit it too but stay at chance (1-4%) through 10,000 steps, so their rise,
        # if any, needs the report's p = 97 (2,794 training pairs, not 279) or more steps. With
        # half of the pairs (QUICK) division groks but + and * follow training within 500-850
        # steps: the larger split hides the delay the page is about. 6,000 steps, not QUICK's
        # 4,000: remeasured at 10,000 steps (2026-12-02, commit cc02c56), + and * first reach
        # 95% at 3,750 and 3,800, and a batch of 32 then swings validation accuracy between
        # ~0.4 and 0.99, so at 4,000 the rise sat at the budget's edge and rounding alone
        # moved it past (the book of 3c066b0). 6,000 leaves 2,200 steps after it.
        "quick": {**QUICK, "train_frac": 0.3, **_MARGIN},
        "smoke": {**SMOKE, "ops": ("+", "/")},
    },
    "lisakib.sweep": {
        "paper": {},
        # The report's grid (Table 1), sampled: a grid chosen so that most runs grok biases a
        # correlation study (the settings that do not grok are the ones that would decorrelate
        # delay and batch size), so quick draws from the report's values on every axis, as
        # `paper` does. Batches 512 and 1024 are left out: with 465 training pairs both are the
        # full batch, whose validation accuracy does not rise within 4,000 steps at the report's
        # lr (see QUICK) and whose step costs ~5x a batch of 32 (a chunk of four such runs
        # alone: ~6 CPU-min). At this scale none of 16 drawn runs fit its training set within
        # 4,000 steps (training accuracy at most 0.63; lr 1e-4, init scale 100 or 0.01 and
        # noise >= 1 stay near chance; the book of 1a4f8dc, 222 s), so there is no delay to
        # correlate: Table 1 is the paper profile's (10,000 steps, p = 97, d = 128).
        # Nor does a narrower grid of the report's values help at this scale: one axis at a
        # time around the forked code's defaults (batch 32, lr 1e-3, weight decay 1, no noise,
        # init scale 1; 16 runs, 2026-12-02), 8 runs fit the training set (by steps 300-3,850)
        # and none reaches 95% validation accuracy within 4,000 steps (at most 0.68, batch 16).
        # So this page decides no claim in quick, and 8 runs show that as well as 16 did, at
        # half the time: the book's minutes go where claims are decided.
        "quick": {**QUICK, "batch_sizes": (8, 16, 32, 128), "sample": 8},
        "smoke": {**SMOKE, "batch_sizes": (4, 8), "noises": (0.0, 1.0),
                  "init_scales": (1.0,), "lrs": (1e-3,), "weight_decays": (1.0,), "sample": 3},
    },
    "lisakib.batch": {
        "paper": {},
        # Two learning rates: at 3e-3 a batch of 8 does not train at all.
        "quick": {**QUICK, "ps": (23, 31), "batch_sizes": (8, 32, 128),
                  "lrs": (1e-3, 3e-3), "weight_decays": (1.0,)},
        "smoke": {**SMOKE, "ps": (5, 7), "batch_sizes": (4, 8), "lrs": (1e-3,),
                  "weight_decays": (1.0,)},
    },
    "lisakib.landscape": {
        "paper": {},
        # Addition and multiplication comprehend where division groks (Fig. 2), so quick
        # varies the operation as well. The report's batches are 8, 32 and 512: at this scale
        # 512 is the full batch, whose rise lies past the budget (QUICK), and 8 at lr 3e-3 does
        # not learn at all (training accuracy 0.04-0.07 after 4,000 steps on each operation,
        # measured 2026-12-02), so it would give Table 4 no optimum that "fails to reach 95%"
        # after learning something. The next of Table 1's batches, 16, does (same
        # measurement: x * y ends at 0.94 training / 0.80 validation accuracy, x / y at 0.73 /
        # 0.67; x + y comprehends), so quick runs 16 and 32.
        "quick": {**QUICK, "ops": ("+", "*", "/"), "batch_sizes": (16, 32), "seeds": 1,
                  "resolution": 15},
        "smoke": {**SMOKE, "ops": ("+", "/"), "batch_sizes": (8,), "seeds": 1,
                  "resolution": 3},
    },
    "lisakib.norms": {
        "paper": {},
        # 6,000 steps (as the curves page): measured at 10,000 steps (2026-12-02), validation
        # first reaches 95% at 2,650-4,950 steps (weight decay 0.3: 4,400; fraction 0.6:
        # 4,950), so at 4,000 the late rises of Figs. 6 and 7 fell past the budget.
        "quick": {**QUICK, **_MARGIN, "train_fracs": (0.4, 0.5, 0.6),
                  "small_wds": (0.3, 0.5, 1.0),
                  "large_wds": (1.0, 1.5, 2.0)},
        "smoke": {**SMOKE, "train_fracs": (0.5, 0.7), "small_wds": (0.5,),
                  "large_wds": (1.0, 2.0)},
    },
}
