"""The notes of the synthetic-data chapters' "paper says / we use" tables.

Per :class:`~grokpaper.carvalho.experiments.ShiftSweep` parameter: what Carvalho et al. say
about it, and why we use the value of the figure's ``paper`` profile. Figure-specific notes
(sizes, f values, dataset) override the defaults in ``FIGURE_SAYS``. ``NOTES[figure]`` is what
:func:`grokpaper.core.report.paper_says_table` takes.
"""

from __future__ import annotations

from grokpaper.carvalho.experiments import ShiftSweep
from grokpaper.core import profiles

#: parameter -> (what the paper says, why we use the paper-profile value)
PAPER_SAYS: dict[str, tuple[str, str]] = {
    "dataset": ("equidistant (Fig. 3), equivariant (Fig. 4)", "the figure's dataset"),
    "sizes": ("gamma_D = 2000 in the Eq. (1) example", "the paper's worked example"),
    "fs": ("f = 0 and f = 0.2 (Fig. 3b); 0.01, 0.05 (Fig. 3c)", "all four"),
    "n_subsampled_per_class": (
        "one subclass per class in the Eq. (1) example; not given for the equivariant dataset",
        "half of each class's subclasses (1 of 2, or 5 of 10), so that in both datasets the "
        "subsampled subclasses make up half of the test set"),
    "seeds": ("10 independent runs (Sec. 5)", "as the paper"),
    "n_test": ("10,000 samples (Sec. 4)", "as the paper"),
    "noise": ("not given", "per-dim std 0.25: blobs overlap little (separable) but 117-dim "
              "noise is enough to memorize"),
    "model": ("an MLP (main text) and a 2-layer transformer (App. A)", "the figure's model"),
    "hidden": ("MLP, size not given", "two hidden layers of 200 (Omnigrok's MNIST MLP)"),
    "d_model": ("transformer, width not given", "64, 4 heads, feed-forward 4 x 64: a small "
                "transformer for 9 tokens of 13 dims (one per binary position of App. A)"),
    "n_heads": ("not given", "4 (16 dims per head)"),
    "n_layers": ("a 2-layer transformer (Sec. 5.1)", "as the paper"),
    "alpha": ("init scale 8 for both architectures (Sec. 5.1)",
              "as the paper: every weight and bias is multiplied by 8 (not the transformer's "
              "LayerNorm gain and shift: scaling those too left it unable to fit its training "
              "set)"),
    "lr": ("1e-3 (Sec. 5.1)", "as the paper"),
    "weight_decay": ("1e-4 (Sec. 5.1)", "as the paper"),
    "optimizer": ("not given", "Adam with L2 (coupled) weight decay: with decoupled AdamW, "
                  "lr x wd = 1e-7 per step makes weight decay inert in any feasible budget"),
    "loss": ("not given", "cross-entropy"),
    "batch_size": ("not given (thesis: 200, and 100 for 100 samples)",
                   "100 for every figure: one ensemble shares a minibatch size, which cannot "
                   "exceed its smallest training set (100 samples in Figs. 3a and 4), and one "
                   "value keeps the figures comparable"),
    "steps": ("not given (\"the same maximum number of epochs\" for all f)",
              "50,000 steps: training converges within ~100-1,500 steps, test accuracy jumps "
              "at ~5,000-14,000; Definition 3.1's support clause S >= 2 (alpha1 - alpha0) "
              "needs the run to go on ~3x as long as alpha1"),
    "n_evals": ("not given", "log-spaced evaluation points (curves use a log x-axis)"),
}

#: Rows that only apply to one model (the figure's, in its ``paper`` profile).
ONLY_FOR = {"hidden": "mlp", "d_model": "transformer", "n_heads": "transformer",
            "n_layers": "transformer"}

#: The synthetic-data figures (their names in ``grokpaper.carvalho.profiles``).
FIGURES = ("carvalho.fig3a", "carvalho.fig3b", "carvalho.fig3c", "carvalho.fig4",
           "carvalho.appendix_fig3b", "carvalho.appendix_fig4", "carvalho.intensity")

_TRANSFORMER_SIZES = ("not given for the transformer",
                      "one mid-size training set per dataset: a transformer step costs ~20 "
                      "MLP steps on a CPU")

#: Figure-specific rows, keyed by the figure's name in ``carvalho.profiles``.
FIGURE_SAYS: dict[str, dict[str, tuple[str, str]]] = {
    "carvalho.fig3a": {
        "sizes": ("several sizes, smallest 100-200 (Fig. 3a)",
                  "100 to 2,000 samples, the range of Figs. 3a-3b"),
        "fs": ("f = 1: balanced downsampling (Fig. 3a)", "as the paper"),
    },
    "carvalho.fig3b": {
        "sizes": ("not given for Fig. 3b; 2,000 in the Eq. (1) example",
                  "two sizes: 500 and the example's 2,000"),
        "fs": ("f = 0 and f = 0.2 (Fig. 3b); 0.01 in the text",
               "f = 0, 0.01, 0.05, 0.2, and f = 1 (balanced) as the reference"),
    },
    "carvalho.fig3c": {
        "sizes": ("4,000 and 5,000 samples (Fig. 3c)", "as the paper"),
        "fs": ("f = 0.01 and f = 0.05 (Sec. 5.2)", "as the paper"),
    },
    "carvalho.fig4": {
        "sizes": ("several sizes, not listed (Fig. 4)", "100, 400 and 800 samples"),
        "fs": ("f = 0 (Fig. 4a) and f = 0.2 (Fig. 4b)", "as the paper"),
    },
    "carvalho.appendix_fig3b": {
        "sizes": _TRANSFORMER_SIZES,
        "fs": ("f = 0 and f = 0.2 (Fig. 3b)", "as the paper"),
    },
    "carvalho.appendix_fig4": {
        "sizes": _TRANSFORMER_SIZES,
        "fs": ("f = 0 (Fig. 4a) and f = 0.2 (Fig. 4b)", "as the paper"),
    },
    "carvalho.intensity": {
        "dataset": ("—", "both datasets, same settings"),
        "sizes": ("100-200 up to 5,000 across Figs. 3-4", "100 to 2,000 samples"),
        "fs": ("0, 0.01, 0.05, 0.2 and 1 across Figs. 3-4", "all five"),
    },
}


def _notes(figure: str) -> dict[str, tuple[str, str]]:
    model = profiles.resolve(figure, ShiftSweep, "paper").model
    says = {**PAPER_SAYS, **FIGURE_SAYS.get(figure, {})}
    return {name: note for name, note in says.items() if ONLY_FOR.get(name, model) == model}


#: The notes of each figure's table: parameter -> (what the paper says, why our value).
NOTES: dict[str, dict[str, tuple[str, str]]] = {figure: _notes(figure) for figure in FIGURES}
