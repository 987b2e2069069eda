"""The cross-examination (``notebooks/cross/``): every run the book trains judged by each
study's definition of grokking, and each study's explanation tested on the others' runs. It
sits above the four study wings (it reads their runs); the core and ``book/`` never import it.
"""
