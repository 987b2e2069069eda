"""Throughput of each experiment family's own training code, and the book's notebook times.

Used by ``scripts/benchmark.py``. Every family trains through its experiment module's public
``train_runs`` (the function the notebooks' sweeps call: same model builder, data layout,
thread setting and trainer); the benchmark times the call of the one trainer,
:func:`grokpaper.core.train.train_ensemble`, inside it, so data and model setup are reported
apart as ``setup_s``.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import numpy as np
import torch

from grokpaper.carvalho import experiments as carvalho
from grokpaper.carvalho import workloads as carvalho_work
from grokpaper.carvalho.transformer import TokenTransformerConfig
from grokpaper.core import provenance
from grokpaper.core.cost import EnsembleCost
from grokpaper.core.memory import Estimate
from grokpaper.core.mnist_data import MnistData, pixels
from grokpaper.core.models import MLPConfig
from grokpaper.core.profiles import PROFILE_NAMES
from grokpaper.core.train import TrainConfig
from grokpaper.lisakib import experiments as lisakib
from grokpaper.lisakib import workloads as lisakib_work
from grokpaper.lisakib.figures import Base
from grokpaper.liu import experiments as liu
from grokpaper.liu import transformer_experiments as liu_transformer
from grokpaper.liu import workloads as liu_work
from grokpaper.liu.toy import ToyConfig, ToyTrainConfig
from grokpaper.liu.transformer import ModAddTransformerConfig, TransformerTrainConfig
from grokpaper.mnist import experiments as mnist
from grokpaper.mnist import resnet
from grokpaper.mnist import workloads as mnist_work
from grokpaper.mnist.resnet import ResNetConfig
from grokpaper.mnist.workloads import resnet_cost

FAMILIES = ("synthetic_mlp", "token_transformer", "toy", "liu_transformer",
            "modular_transformer", "mnist_mlp", "resnet")
TIMING = ("wall_s: the family's trainer alone, n_evals=2 (evaluations at the first and last "
          "step included), after a warm-up run; setup_s: data and model construction")


@dataclass(frozen=True)
class Family:
    """One experiment family: what it trains, through which of its experiment's functions."""

    name: str
    model: str
    data: str
    trainer: str  # "module.attribute": where the family calls the trainer (the timed call)
    runs: Callable[[int, int, int], list[Any]]  # (members, steps, d_model) -> its runs
    train: Callable[[list[Any], str], object]  # (runs, device): the experiment's train_runs
    cost: Callable[[list[Any]], EnsembleCost]  # their FLOPs (grokpaper.core.cost)
    memory: Callable[[list[Any], int], Estimate]  # their bytes (grokpaper.core.memory)


def _synthetic(model: MLPConfig | TokenTransformerConfig) -> Callable[[int, int, int], list]:
    def runs(n: int, steps: int, d_model: int) -> list[carvalho.SyntheticRun]:
        run = carvalho.SyntheticRun(data=carvalho.SyntheticDataConfig(n_test=1000), model=model,
                                    train=TrainConfig(steps=steps, optimizer="adam",
                                                      batch_size=200, n_evals=2))
        return [replace(run, seed=s) for s in range(n)]

    return runs


def _toy(n: int, steps: int, d_model: int) -> list[liu.ToyRun]:
    run = liu.ToyRun(model=ToyConfig(size=10, emb_dim=1, width=200),
                     train=ToyTrainConfig(steps=steps, n_evals=2), n_train=45)
    return [replace(run, seed=s) for s in range(n)]


def _liu_transformer(n: int, steps: int, d_model: int) -> list[liu_transformer.TransformerRun]:
    # The `quick` profile's size (profiles "liu.fig7"), full batch as the authors' code.
    model = ModAddTransformerConfig(p=17, d_model=64, d_ff=128)
    return [liu_transformer.TransformerRun(model, TransformerTrainConfig(steps=steps, n_evals=2),
                                           seed=s) for s in range(n)]


def _modular_transformer(n: int, steps: int, d_model: int) -> list[lisakib.ModRun]:
    # The `quick` profile's task and optimizer (lisakib.profiles.QUICK) at the report's width.
    base = Base(op="/", p=31, train_frac=0.5, d_model=d_model, lr=3e-3, steps=steps,
                batch_size=32, n_evals=2)
    return [base.run(seed=s) for s in range(n)]


def fake_mnist(n_train: int = 1000, n_test: int = 1000, seed: int = 0) -> MnistData:
    """An ``MnistData`` of random uint8 images (pixels become random values in [0, 1])."""
    rng = np.random.default_rng(seed)
    return MnistData(rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                     rng.integers(0, 10, n_train, dtype=np.int64),
                     rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                     rng.integers(0, 10, n_test, dtype=np.int64), "random", "<none>")


def _mnist_mlp(n: int, steps: int, d_model: int) -> list[mnist.MnistRun]:
    train = replace(mnist.OMNIGROK_TRAIN, steps=steps, n_evals=2)
    return [mnist.MnistRun(fake_mnist().fingerprint, n_train=1000, train=train, seed=s)
            for s in range(n)]


#: The ResNet family's pools: enough images for a few minibatches and one evaluation.
RESNET_POOL = 128
RESNET_ARCH = "resnet18"  # the paper profile's (tests use "tiny")


def _resnet(n: int, steps: int, d_model: int) -> list[ResNetConfig]:
    # One ResNet whatever n (it is not an ensemble), for as many epochs of the small pool as
    # the steps take.
    cfg = ResNetConfig(arch=RESNET_ARCH, max_steps=steps)
    return [replace(cfg, epochs=-(-steps * cfg.batch_size // RESNET_POOL))]


def _train_resnet(runs: list[ResNetConfig], device: str) -> object:
    data = fake_mnist(RESNET_POOL, RESNET_POOL)

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(pixels(a)).reshape(-1, 1, 28, 28)

    return resnet.train_classifier(runs[0], images(data.train_images),
                                   torch.from_numpy(data.train_labels),
                                   images(data.test_images), torch.from_numpy(data.test_labels),
                                   device)


def _resnet_cost(runs: list[ResNetConfig]) -> EnsembleCost:
    # The timed call evaluates after every epoch but does not embed the pools.
    cost = resnet_cost(runs[0], RESNET_POOL, RESNET_POOL)
    return replace(cost, evals=cost.evals - 1)


REGISTRY: dict[str, Family] = {f.name: f for f in (
    Family("synthetic_mlp", "Carvalho MLP 117-200-200-4, alpha 8, Adam, minibatch 200",
           "generated by grokpaper.carvalho.data (2,000 training samples per member, "
           "1,000 test samples)",
           "grokpaper.carvalho.experiments.train_ensemble",
           _synthetic(MLPConfig(hidden=(200, 200))), carvalho.train_runs, carvalho_work.cost,
           carvalho.ensemble_memory),
    Family("token_transformer", "Carvalho token transformer, 9 tokens, 2 layers, d_model=64, "
           "4 heads, Adam, minibatch 200", "generated by grokpaper.carvalho.data (2,000 "
           "training samples per member, 1,000 test samples)",
           "grokpaper.carvalho.experiments.train_ensemble", _synthetic(TokenTransformerConfig()),
           carvalho.train_runs, carvalho_work.cost,
           carvalho.ensemble_memory),
    Family("toy", "Liu toy model: p=10 addition, 1-D embeddings, decoder 200-200, MSE, "
           "two AdamW, full batch of 45 samples",
           "the real task (generated)", "grokpaper.liu.toy.train_ensemble", _toy,
           liu.train_runs, liu_work.toy_cost, liu.ensemble_memory),
    Family("liu_transformer", "Liu transformer (Sec. 4.2), 2 pre-norm layers, d_model=64, "
           "d_ff=128, addition mod 17, 80% of the pairs, two AdamW, full batch",
           "the real task (generated)", "grokpaper.liu.transformer.train_ensemble",
           _liu_transformer, liu_transformer.train_runs, liu_work.transformer_cost,
           liu_transformer.ensemble_memory),
    Family("modular_transformer", "Li & Sakib transformer, 2 layers, 4 heads, d_model={d}, "
           "division mod 31, train_frac 0.5, AdamW, minibatch 32",
           "the real task (generated)", "grokpaper.lisakib.experiments.train_ensemble",
           _modular_transformer, lisakib.train_runs, lisakib_work.cost,
           lisakib.ensemble_memory),
    Family("mnist_mlp", "Omnigrok MLP 784-200-200-10, alpha 8, MSE, AdamW, minibatch 200",
           "random tensors of the real shapes (1,000 training and 1,000 test images)",
           "grokpaper.mnist.experiments.train_ensemble", _mnist_mlp,
           lambda runs, device: mnist.train_runs(runs, device, fake_mnist()),
           lambda runs: mnist_work.cost(runs, 1000),
           lambda runs, m: mnist.ensemble_memory(runs, m, 1000)),
    Family("resnet", "ResNet-18 (3x3 stem, no max-pool) on 1x28x28 images, Adam, minibatch 64",
           f"random tensors of MNIST's shape ({RESNET_POOL} training and test images)",
           "grokpaper.mnist.resnet.train_classifier", _resnet, _train_resnet, _resnet_cost,
           lambda runs, m: resnet.memory(runs[0], RESNET_POOL, RESNET_POOL)),
)}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


@contextmanager
def _timed(target: str, device: str) -> Iterator[dict[str, float]]:
    """Patch ``module.attribute`` so that each call records its wall time and CPU threads."""
    module_name, attr = target.rsplit(".", 1)
    module: ModuleType = importlib.import_module(module_name)
    original = getattr(module, attr)
    box: dict[str, float] = {}

    def timed(*args: Any, **kwargs: Any) -> Any:
        _sync(device)
        start = time.perf_counter()
        out = original(*args, **kwargs)
        _sync(device)
        box["wall_s"] = time.perf_counter() - start
        box["threads"] = torch.get_num_threads()
        return out

    with mock.patch.object(module, attr, timed):
        yield box


def _rss_mib() -> float:
    """The process's peak resident set size so far (ru_maxrss), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def measure(family: str, n: int, *, steps: int, device: str, d_model: int = 128
            ) -> dict[str, Any]:
    """Train ``n`` members of ``family`` for ``steps`` steps; throughput and peak memory."""
    fam = REGISTRY[family]
    gc.collect()
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    rss0 = _rss_mib()
    start = time.perf_counter()
    runs = fam.runs(n, steps, d_model)
    with _timed(fam.trainer, device) as box:
        fam.train(runs, device)
    total = time.perf_counter() - start
    if "wall_s" not in box:
        raise RuntimeError(f"{fam.trainer} was not called by the {family} experiment")
    row: dict[str, Any] = {"members": n, "steps": steps, "wall_s": round(box["wall_s"], 4),
                           "setup_s": round(total - box["wall_s"], 4),
                           "model_steps_per_s": round(n * steps / box["wall_s"], 2),
                           "threads": int(box["threads"])}
    if cuda:
        row["peak_memory_mib"] = round((torch.cuda.max_memory_allocated(device) - base) / 2**20, 1)
    else:
        rss = _rss_mib()
        row["peak_memory_mib"] = round(max(0.0, rss - rss0), 1)
        row["process_peak_rss_mib"] = round(rss, 1)
    return row


def run_family(family: str, sizes: list[int], *, steps: int, warmup: int, device: str,
               d_model: int = 128) -> dict[str, Any]:
    """Every ensemble size of one family (ascending), after a ``warmup``-step run."""
    fam = REGISTRY[family]
    sizes = sorted(set(sizes))
    if warmup > 0:
        measure(family, sizes[0], steps=warmup, device=device, d_model=d_model)
    rows = [measure(family, n, steps=steps, device=device, d_model=d_model) for n in sizes]
    one = next((r["model_steps_per_s"] for r in rows if r["members"] == 1), None)
    for r in rows:
        r["speedup_vs_one"] = round(r["model_steps_per_s"] / one, 2) if one else None
    return {"family": family, "model": fam.model.format(d=d_model), "data": fam.data,
            "timed": fam.trainer, "results": rows}


def memory_method(device: str) -> str:
    """How ``peak_memory_mib`` is measured on ``device`` (for the JSON header)."""
    if device.startswith("cuda"):
        return ("cuda: torch.cuda.max_memory_allocated() after reset_peak_memory_stats(), minus "
                "the memory allocated before the measurement (data, model, optimizer, "
                "activations)")
    return ("cpu: increase of the process's peak RSS (resource.getrusage ru_maxrss) over the "
            "measurement; 0 when an earlier measurement peaked higher (sizes run ascending); "
            "process_peak_rss_mib is the high-water mark itself")


def device_name(device: str) -> str:
    """GPU model, or the CPU model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(device: str) -> dict[str, Any]:
    """Where and with what the benchmark ran."""
    git = provenance.git_state()
    return {"device": device, "device_name": device_name(device), "torch": torch.__version__,
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            # Other work on the machine slows every figure; the load says how much there was.
            "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
            "git_sha": git["sha"], "git_dirty": git["dirty"],
            "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _notebook_row(path: Path, root: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"notebook": path.relative_to(root).as_posix()}
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError) as err:
        return {**row, "profile": None, "duration_s": None, "error": type(err).__name__}
    pm = meta.get("papermill") or {}
    duration = pm.get("duration")
    return {**row, "profile": (meta.get("grokpaper") or {}).get("profile"),
            "duration_s": round(float(duration), 1) if duration is not None else None,
            "end_time": pm.get("end_time"), "failed": pm.get("exception") is not None}


def notebook_times(root: Path | str) -> dict[str, Any]:
    """Profile and papermill duration of every executed notebook under ``root`` (book/),
    skipping ``_build`` and checkpoints, with the count and total seconds per profile."""
    root = Path(root)
    skip = {"_build", ".ipynb_checkpoints"}
    rows = [_notebook_row(p, root) for p in sorted(root.rglob("*.ipynb"))
            if not skip & set(p.relative_to(root).parts)]
    # Every profile is listed (0 notebooks where the book holds none run with it).
    totals = {p: {"notebooks": 0, "timed": 0, "total_s": 0.0} for p in PROFILE_NAMES}
    for r in rows:
        t = totals.setdefault(str(r["profile"]), {"notebooks": 0, "timed": 0, "total_s": 0.0})
        t["notebooks"] += 1
        if r["duration_s"] is not None:
            t["timed"] += 1
            t["total_s"] = round(t["total_s"] + r["duration_s"], 1)
    return {"root": str(root), "source": "metadata.grokpaper.profile, "
            "metadata.papermill.duration", "notebooks": rows, "totals_by_profile": totals}
