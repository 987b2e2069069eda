"""grokpaper: an executable, reproducible paper about grokking (delayed generalization)."""

# The one place the version is written: pyproject.toml reads it from here (setuptools
# dynamic version); CITATION.cff repeats it and tests/test_packaging.py checks the two agree.
__version__ = "0.1.0"
