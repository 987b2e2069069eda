"""No trainer waits on the host once per step: every family's own training code (through its
experiment's ``train_runs``, as the benchmark runs it) makes as many host syncs in a short run
as in a longer one. Counted on the CPU (see ``tests/counting.py``): a read of a value
(``.item()``, ``bool(t)``, ``.cpu()``...), an operation whose output shape depends on values,
or a host-to-device copy (``.to``) would each stall a GPU."""

import pytest
import torch

from grokpaper import bench
from tests.counting import host_syncs


@pytest.fixture(autouse=True)
def _small(monkeypatch):
    monkeypatch.setattr(bench, "RESNET_ARCH", "tiny")  # seconds per step otherwise


def _syncs(family: str, steps: int) -> dict:
    fam = bench.REGISTRY[family]
    runs = fam.runs(2, steps, 16)
    with host_syncs() as counts:
        fam.train(runs, "cpu")
    return dict(counts)


#: Steps of the short and the long run; the ResNet's pool holds two minibatches per epoch.
STEPS = {"resnet": (1, 2)}


@pytest.mark.parametrize("family", bench.FAMILIES)
def test_host_syncs_do_not_grow_with_the_steps(family):
    torch.set_num_threads(1)  # tiny tensors
    short, long = STEPS.get(family, (3, 9))
    assert _syncs(family, short) == _syncs(family, long)


def test_the_counter_sees_a_read_per_step():
    # The check can fail: a loop that reads a loss every step is caught, by method and by op.
    def loop(steps: int) -> dict:
        w = torch.ones(3, requires_grad=True)
        with host_syncs() as counts:
            for _ in range(steps):
                loss = (w * 2).sum()
                if loss > 0:  # a Python branch on a tensor: __bool__
                    float(loss.detach())  # and a read
                w[torch.tensor([True, False, True])].sum()  # a value-dependent shape
        return dict(counts)

    few, many = loop(2), loop(5)
    assert few != many
    assert many["__bool__"] == 5 and many["__float__"] == 5 and many["aten.index"] == 5
