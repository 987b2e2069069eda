"""Memory estimates (issue 15, item 11): each family's formula against what a real ensemble
allocates, and pre-flight refusing what would not fit.

The measurement runs in a fresh process: its peak resident memory (``VmHWM``, Linux) after a
warm up, minus before, while a real ensemble is built and trained for a few steps with its
evaluations. The formula must land between 0.75 and 1.6 times it: a pre-flight estimate may err
high (the allocator's reuse of freed blocks moves the measured peak by up to ~30% from run to
run), but not far low.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grokpaper.core import memory

REPO_ROOT = Path(__file__).resolve().parent.parent


def _peak() -> int:
    """This process's peak resident memory, in bytes. VmHWM, not ``getrusage``'s ru_maxrss:
    Linux carries the parent's peak over an exec into ru_maxrss (a large pytest process would
    hide the child's own peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _mlp(members: int, n_in: int, hidden: tuple[int, ...], n_out: int, n: int, n_test: int,
         batch: int | None) -> memory.Estimate:
    import torch

    from grokpaper.core.models import EnsembleMLP, MLPConfig
    from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble

    data = EnsembleData(torch.randn(members, n, n_in), torch.randint(0, n_out, (members, n)),
                        torch.full((members,), n), torch.randn(n_test, n_in),
                        torch.randint(0, n_out, (n_test,)), n_out)
    seeds = list(range(members))
    model = EnsembleMLP(n_in, n_out, MLPConfig(hidden=hidden, alpha=1.0), seeds)
    train_ensemble(model, data, TrainConfig(steps=3, batch_size=batch, n_evals=2), seeds=seeds)
    return memory.mlp(members=members, n_in=n_in, hidden=hidden, n_out=n_out, n_train=n,
                      n_test=n_test, batch=batch)


def _modular(members: int, p: int, d_model: int, frac: float, batch: int | None
             ) -> memory.Estimate:
    import torch

    from grokpaper.core.train import EnsembleData, TrainConfig, train_ensemble
    from grokpaper.lisakib import data as modular
    from grokpaper.lisakib import experiments
    from grokpaper.lisakib.experiments import ModRun
    from grokpaper.lisakib.transformer import ModularTransformerConfig, ensemble

    x, y = modular.table("/", p)
    tr, va = modular.split("/", p, frac, seed=0)
    data = EnsembleData(x[tr].expand(members, -1, -1).contiguous(),
                        y[tr].expand(members, -1).contiguous(), torch.full((members,), len(tr)),
                        x[va], y[va], p)
    cfg, seeds = ModularTransformerConfig(d_model=d_model, d_ff=4 * d_model), list(range(members))
    model = ensemble(cfg, modular.vocab_size(p), p, seeds, init_scale=[1.0] * members,
                     noise_std=[0.0] * members)
    train = TrainConfig(steps=3, batch_size=batch, n_evals=2)
    train_ensemble(model, data, train, seeds=seeds)
    return experiments.memory([ModRun(p=p, train_frac=frac, model=cfg, train=train, seed=s)
                               for s in seeds])


def probe_main(family: str, args: str) -> None:
    """Child process: warm up, then train one ensemble; print measured and estimated bytes."""
    import torch

    torch.set_num_threads(1)
    kwargs = json.loads(args)
    build = {"mlp": _mlp, "modular": _modular}[family]
    warm = {"mlp": dict(members=2, n_in=8, hidden=[8], n_out=3, n=16, n_test=16, batch=None),
            "modular": dict(members=2, p=5, d_model=8, frac=0.5, batch=None)}[family]
    build(**{k: tuple(v) if k == "hidden" else v for k, v in warm.items()})
    before = _peak()
    estimate = build(**{k: tuple(v) if k == "hidden" else v for k, v in kwargs.items()})
    print(json.dumps({"measured": _peak() - before, "estimate": estimate.total,
                      "detail": str(estimate)}))


CASES = [
    # MLP, full batch: the training step dominates.
    ("mlp", dict(members=8, n_in=117, hidden=[512, 512], n_out=4, n=4000, n_test=4096,
                 batch=None)),
    # MLP, minibatches and a large shared test set: the evaluation dominates.
    ("mlp", dict(members=16, n_in=784, hidden=[200, 200], n_out=10, n=1000, n_test=10_000,
                 batch=200)),
    # Token transformer (Li & Sakib's), minibatches: the evaluation dominates.
    ("modular", dict(members=16, p=61, d_model=64, frac=0.3, batch=128)),
]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
@pytest.mark.parametrize(("family", "kwargs"), CASES, ids=["mlp-step", "mlp-eval", "modular"])
def test_the_formula_matches_what_an_ensemble_allocates(family, kwargs):
    args = json.dumps(kwargs)
    code = f"from tests.test_memory import probe_main; probe_main({family!r}, {args!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    ratio = out["estimate"] / out["measured"]
    print(f"{family} {kwargs}: measured {memory.size(out['measured'])}, estimated "
          f"{out['detail']}: ratio {ratio:.2f}")
    assert 0.75 <= ratio <= 1.6, (out, ratio)
