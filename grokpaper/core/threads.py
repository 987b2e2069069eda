"""How many CPU threads torch uses while an experiment trains."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_cpu_thread(device: str) -> Iterator[None]:
    """On a CPU, run with one intra-op thread (and restore the count after): the toy models and
    small transformers are so small that a second thread only adds hand-offs (measured on a
    shared 2-core CPU: toy model, 30 members, 16 ms/step with one thread vs 150 ms with two;
    Li & Sakib's transformer 5-13x slower with two)."""
    before = torch.get_num_threads()
    if str(device).startswith("cpu"):
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
