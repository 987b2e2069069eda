"""grokpaper: an executable, reproducible paper about grokking (delayed generalization)."""

__version__ = "0.1.0"
