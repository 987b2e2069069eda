"""Counters the tests hold the cost model and the trainers to, on a CPU: FLOPs (torch's
``FlopCounterMode``), the peak bytes of live tensors, and host syncs (reads of a tensor's
value, and operations whose output shape depends on values: both wait for a GPU)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode


class LiveBytes(TorchDispatchMode):
    """The most bytes of tensor storage alive at once among those the operations inside the
    mode create (storages are counted once, however many views share them)."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, tuple[StorageWeakRef, int]] = {}
        self.now = self.peak = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        out = func(*args, **(kwargs or {}))
        for key in [k for k, (ref, _) in self.live.items() if ref.expired()]:
            self.now -= self.live.pop(key)[1]
        for t in torch.utils._pytree.tree_leaves(out):
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key = storage.data_ptr()
                if key and key not in self.live:
                    self.live[key] = (StorageWeakRef(storage), storage.nbytes())
                    self.now += storage.nbytes()
        self.peak = max(self.peak, self.now)
        return out


#: Operations that read a value back to the host (``.item()``, ``bool(t)``, ...) or whose
#: output shape depends on the values (on a GPU: a sync to learn the size).
SYNC_OPS = ("aten._local_scalar_dense", "aten.nonzero", "aten.masked_select", "aten.unique",
            "aten._unique", "aten.equal", "aten.is_nonzero", "aten.repeat_interleave")
#: Tensor methods that hand a value or a copy to the host.
SYNC_METHODS = ("item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__",
                "__index__")


def _from_optimizer() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if "torch/optim/" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


class _SyncOps(TorchDispatchMode):
    def __init__(self, counts: Counter) -> None:
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None
                           ) -> Any:
        name = str(func.overloadpacket)
        if _from_optimizer():
            pass
        elif name.startswith(SYNC_OPS) or (name == "aten.index" and any(
                isinstance(i, torch.Tensor) and i.dtype == torch.bool
                for i in (args[1] if len(args) > 1 else ()))):
            self.counts[name] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def host_syncs() -> Iterator[Counter]:
    """Count host syncs inside the block: by operation (``aten...``), by method, and new
    tensors made from host data (``torch.tensor``, ...). Calls from torch's own optimizers are
    left out: they keep their step count on the host (no GPU sync to read it)."""
    counts: Counter = Counter()
    with ExitStack() as stack:
        for name in SYNC_METHODS:
            original = getattr(torch.Tensor, name)

            def spy(self, *args, _original=original, _name=name, **kwargs):
                if "torch/optim/" not in sys._getframe(1).f_code.co_filename:
                    counts[_name] += 1
                return _original(self, *args, **kwargs)

            stack.enter_context(mock.patch.object(torch.Tensor, name, spy))
        # New tensors from host data (a copy to the device each time on a GPU).
        for name in ("tensor", "as_tensor", "from_numpy"):
            original = getattr(torch, name)

            def made(data, *args, _original=original, _name=name, **kwargs):
                if not isinstance(data, torch.Tensor):
                    counts[f"torch.{_name}"] += 1
                return _original(data, *args, **kwargs)

            stack.enter_context(mock.patch.object(torch, name, made))
        stack.enter_context(_SyncOps(counts))
        yield counts
