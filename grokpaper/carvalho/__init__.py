"""Carvalho et al. 2025, *Grokking Explained: A Statistical Phenomenon*: the synthetic
equidistant/equivariant datasets (Eq. (1)), their runs, verdicts and tables
(``notebooks/carvalho/``)."""
