"""CPU thread settings torch trains under: how many threads, and whether denormals flush."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

#: A float32 denormal (below 1.18e-38): it survives arithmetic only while denormals are kept.
_DENORMAL = 1e-40


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


def flushing_denormals() -> bool:
    """Whether this thread's CPU arithmetic treats denormal floats as zero (x86 FTZ/DAZ)."""
    return bool((torch.tensor([_DENORMAL]) * 1.0).item() == 0.0)


@contextmanager
def flush_denormals(device: str | torch.device) -> Iterator[None]:
    """On a CPU, treat denormal floats as zero in this thread (the caller's setting restored
    after). Once a model fits its training set, softmax gradients and Adam's moments decay into
    the denormal range, where x86 arithmetic slows down many times: measured on an Intel Xeon
    (AVX-512), Carvalho's Fig. 3a MLP (3 members, 16,000 steps, one thread) took 122 s, and
    21.6 s flushing, with the same accuracies. Values below 1.2e-38 become 0; GPUs and
    architectures without the flags are left as they are. torch sets the flags for the calling
    thread only: intra-op threads started earlier keep theirs (sweeps train in one-thread
    worker processes). Results change only where such values occur, so every family that
    trains through :func:`grokpaper.core.train.train_ensemble` bumped its store kind: runs
    stored without flushing are not mixed in."""
    if torch.device(device).type != "cpu":
        yield
        return
    before = flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)
