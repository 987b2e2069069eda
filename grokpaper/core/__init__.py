"""The study-agnostic core: data layout, models, the one ensemble trainer, optimizers, metrics,
the result store and sweeps, profiles, verdicts, tables and plots. It imports no study wing."""
