"""Benchmark (not a test): model-steps/s of the ensemble trainer, one model vs ensembles.

    python scripts/benchmark.py [--device cpu|cuda] [--steps 300] [--sizes 1 10 60]

Prints JSON: for the Carvalho synthetic MLP (117-200-200-4, minibatch 200, Adam), the
throughput of one model and of ensembles of growing size, with peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import torch

from grokpaper import provenance
from grokpaper.experiments.synthetic import SyntheticRun, _train
from grokpaper.paths import default_device
from grokpaper.train import TrainConfig


def measure(n_members: int, *, steps: int, device: str, hidden: tuple[int, ...]) -> dict:
    """Train ``n_members`` synthetic MLPs for ``steps`` steps; returns throughput figures."""
    from dataclasses import replace

    base = SyntheticRun()
    run = replace(base, data=replace(base.data, n_test=1000),
                  model=replace(base.model, hidden=hidden),
                  train=TrainConfig(steps=steps, optimizer="adam", n_evals=2))
    runs = [replace(run, seed=s) for s in range(n_members)]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    _train(runs, device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() if device.startswith("cuda")
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"members": n_members, "steps": steps, "wall_s": round(wall, 3),
            "model_steps_per_s": round(n_members * steps / wall, 1),
            "peak_memory_mib": round(peak / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="default: $GROKPAPER_DEVICE, cuda, cpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 60])
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    args = parser.parse_args(argv)
    device = args.device or default_device()
    measure(1, steps=20, device=device, hidden=tuple(args.hidden))  # warm-up (allocator, JIT)
    rows = [measure(n, steps=args.steps, device=device, hidden=tuple(args.hidden))
            for n in args.sizes]
    one = rows[0]["model_steps_per_s"] if rows[0]["members"] == 1 else None
    for r in rows:
        r["speedup_vs_one"] = round(r["model_steps_per_s"] / one, 2) if one else None
    info = provenance.collect(device=device)
    print(json.dumps({"family": "carvalho synthetic MLP 117-" + "-".join(map(str, args.hidden))
                      + "-4, batch 200", "device": info["device_name"],
                      "torch": info["torch"], "git": info["git"], "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
