"""Liu et al. 2022, *Towards Understanding Grokking*: the toy model, RQI and the effective
theory, phase diagrams, the modular-addition transformer (``notebooks/liu/``)."""
