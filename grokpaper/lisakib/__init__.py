"""Li & Sakib, *ECE 826 Project - Grokking*: the modular-arithmetic transformer, the grokking
delay, hyperparameter correlations, batch sizes, loss landscapes, Q/K/V norms
(``notebooks/lisakib/``)."""
