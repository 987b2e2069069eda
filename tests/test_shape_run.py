"""The paper profile before the hours (issue 16): ``grokpaper run --profile paper`` on a CPU
prints the plan's prediction and waits for ``--yes`` (or ``$GROKPAPER_YES=1``); a shape run
(``--max-steps N``) never asks, writes its pages and results apart from the book and the
user's store, and its runs carry the cap in their parameters; ``grokpaper plan --json`` counts
what a shape run trains.

Notebook execution is replaced by a stand-in that records what would have run (and the
environment it would have run in); the plan reads a calibration written into the temporary
store, so no test calibrates or trains.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from grokpaper import bench, calibration
from grokpaper.book import cli, notebooks, planner, runner
from grokpaper.core import memory, mnist_data, precision, profiles
from grokpaper.core.paths import REPO_ROOT
from grokpaper.core.throughput import Calibration, Rate
from grokpaper.liu.experiments import PhaseDiagrams

#: A notebook whose paper grid is hours on any CPU (768 runs) and needs no data.
PAGE = "liu/fig6_phase_diagrams"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Real notebooks, a temporary book, build folder and store; execution recorded."""
    layout = notebooks.Layout(notebooks=REPO_ROOT / "notebooks", book=tmp_path / "book",
                              build=tmp_path / "build", package=REPO_ROOT / "grokpaper")
    store = tmp_path / "store"
    monkeypatch.setenv("GROKPAPER_STORE", str(store))
    monkeypatch.setenv("GROKPAPER_DEVICE", "cpu")
    for name in ("GROKPAPER_MNIST", "GROKPAPER_SCHEDULER", cli.YES_ENV, profiles.MAX_STEPS_ENV):
        monkeypatch.delenv(name, raising=False)
    ran: list[dict] = []

    def execute(nb, profile, params, *, layout=None, force=False, progress=False):
        ran.append({"name": nb.name, "profile": profile, "output": nb.output,
                    "store": os.environ.get("GROKPAPER_STORE"),
                    "cap": os.environ.get(profiles.MAX_STEPS_ENV)})
        nb.output.parent.mkdir(parents=True, exist_ok=True)
        nb.output.write_text("{}")
        return notebooks.Outcome(nb, "ran", 0.0)

    monkeypatch.setattr(runner, "execute", execute)
    return layout, store, ran


def _calibrate(store: Path, flops_per_s: float) -> None:
    """A cached calibration of this machine with every family at ``flops_per_s``."""
    found = Calibration(
        device="cpu", device_name="test CPU",
        rates={f: Rate(flops_per_s, 0.0) for f in bench.FAMILIES},
        ops_per_step={f: 100.0 for f in bench.FAMILIES}, load_avg=0.0, source="test")
    path = store / "calibration" / f"{socket.gethostname()}-cpu.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(found.to_json())
    assert calibration.cached_path("cpu") == path


def test_a_paper_run_on_a_cpu_prints_the_prediction_and_waits_for_yes(env, capsys):
    layout, store, ran = env
    _calibrate(store, 1e9)  # 1 GFLOP/s: the paper grid takes days
    assert cli.main(["run", "--profile", "paper", PAGE], layout=layout) == 2
    err = capsys.readouterr().err
    assert "predicted to take" in err and "on this CPU" in err
    assert PAGE in err  # the plan's table, one line per notebook
    assert "--yes" in err and cli.YES_ENV in err
    assert ran == [] and not layout.book.exists()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_yes_or_the_variable_starts_it(env, monkeypatch, how):
    layout, store, ran = env
    _calibrate(store, 1e9)
    argv = ["run", "--profile", "paper", PAGE]
    if how == "flag":
        argv.insert(1, "--yes")
    else:
        monkeypatch.setenv(cli.YES_ENV, "1")
    assert cli.main(argv, layout=layout) == 0
    assert [r["name"] for r in ran] == [PAGE] and ran[0]["profile"] == "paper"


def test_a_paper_run_predicted_within_the_hour_does_not_ask(env):
    layout, store, ran = env
    _calibrate(store, 1e18)
    assert cli.main(["run", "--profile", "paper", PAGE], layout=layout) == 0
    assert [r["name"] for r in ran] == [PAGE]


def test_other_profiles_never_ask(env):
    layout, store, ran = env
    _calibrate(store, 1.0)  # would be years at paper scale
    assert cli.main(["run", "--profile", "quick", PAGE], layout=layout) == 0
    assert len(ran) == 1


def test_a_shape_run_never_asks_and_writes_apart_from_the_book_and_the_store(env):
    layout, store, ran = env
    _calibrate(store, 1.0)  # were it asked, this plan would refuse
    assert cli.main(["run", "--profile", "paper", "--max-steps", "3", PAGE],
                    layout=layout) == 0
    scratch = layout.build / "shape" / "paper-3-steps"
    assert cli.shape_layout(layout, "paper", 3).book == scratch / "book"
    assert [r["name"] for r in ran] == [PAGE]
    assert ran[0]["cap"] == "3"
    assert Path(ran[0]["store"]) == scratch / "store" != store
    assert ran[0]["output"].is_relative_to(scratch / "book")
    assert not layout.book.exists()
    # Afterwards the caller's environment is as it was.
    assert os.environ["GROKPAPER_STORE"] == str(store)
    assert profiles.MAX_STEPS_ENV not in os.environ


def test_the_shape_run_of_another_cap_has_its_own_folder(env):
    layout, _, ran = env
    for cap in (3, 5):
        assert cli.main(["run", "--profile", "smoke", "--max-steps", str(cap), PAGE],
                        layout=layout) == 0
    assert ran[0]["store"] != ran[1]["store"]
    assert ran[0]["output"] != ran[1]["output"]


def test_capped_parameters_carry_the_cap(monkeypatch):
    """What keys a stored run: the resolved parameters. Capped, they differ from the
    profile's, so a capped run is never read back as a full one (even in the same store)."""
    full = profiles.resolve("liu.fig6", PhaseDiagrams, "paper")
    monkeypatch.setenv(profiles.MAX_STEPS_ENV, "3")
    with pytest.warns(profiles.CappedStepsWarning):
        capped = profiles.resolve("liu.fig6", PhaseDiagrams, "paper")
    assert capped.steps == 3 < full.steps
    # Only the step budget changes: the grid, seeds and widths stay the paper's.
    changed = {f.name for f in dataclasses.fields(full)
               if getattr(full, f.name) != getattr(capped, f.name)}
    assert changed == {"steps"}


def test_plan_json_counts_a_shape_run(env, capsys):
    layout, store, _ = env
    _calibrate(store, 1e10)
    assert cli.main(["plan", "--profile", "paper", "--max-steps", "3", "--json", PAGE],
                    layout=layout) == 0
    capped = json.loads(capsys.readouterr().out)
    assert cli.main(["plan", "--profile", "paper", "--json", PAGE], layout=layout) == 0
    full = json.loads(capsys.readouterr().out)
    assert capped["max_steps"] == 3 and full["max_steps"] is None
    (c,), (f,) = capped["pages"], full["pages"]
    assert c["notebook"] == f["notebook"] == PAGE
    # The same grid and ensembles; only the steps shrink.
    assert c["runs"] == f["runs"] > 0 and c["ensembles"] == f["ensembles"]
    assert c["model_steps"] == 3 * c["runs"] < f["model_steps"]
    assert 0 < c["seconds_here"] < f["seconds_here"]
    assert capped["total"]["seconds_here"] == c["seconds_here"]


def test_the_plan_shares_a_cpus_memory_as_the_sweeps_do(monkeypatch):
    monkeypatch.delenv(memory.BUDGET_ENV, raising=False)
    monkeypatch.setattr(planner, "budget", lambda device: 8000)
    monkeypatch.setenv("GROKPAPER_WORKERS", "2")
    assert planner.budget_for("cpu") == 4000
    monkeypatch.setenv("GROKPAPER_WORKERS", "1")
    assert planner.budget_for("cpu") == 8000
    monkeypatch.setenv("GROKPAPER_WORKERS", "2")
    monkeypatch.setattr(planner, "budget", memory.budget)
    monkeypatch.setenv(memory.BUDGET_ENV, "3000")  # one ensemble's budget, used as it is
    assert planner.budget_for("cpu") == 3000


@pytest.mark.parametrize(("wanted", "matmul", "conv"), [("1", "high", True),
                                                         ("", "highest", False)])
def test_tf32_only_when_asked_and_only_on_a_gpu(monkeypatch, wanted, matmul, conv):
    before = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
    monkeypatch.setenv(precision.TF32_ENV, wanted)
    try:
        assert precision.apply("cpu") is False
        assert (torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32) == before
        # The flags are set without a GPU (they are read when a CUDA kernel runs).
        assert precision.apply("cuda:0") is (wanted == "1")
        assert torch.get_float32_matmul_precision() == matmul
        assert torch.backends.cudnn.allow_tf32 is conv
    finally:
        torch.set_float32_matmul_precision(before[0])
        torch.backends.cudnn.allow_tf32 = before[1]


def _make_n(target: str) -> str:
    """What ``make -n target`` would run (setup taken as done), with this environment."""
    venv = Path(sys.executable).parent.parent
    proc = subprocess.run(["make", "-n", target, f"VENV={venv}", "-o", f"{venv}/.installed"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.replace("\\\n", " ")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_shape_and_shape_heavy_cover_every_notebook_once():
    every = [nb.name for nb in notebooks.discover()]
    ran = []
    for target in ("shape", "shape-heavy"):
        out = _make_n(target)
        assert 'rm -rf "build/shape/paper-3-steps"' in out  # a fresh scratch book and store
        (line,) = [x for x in out.splitlines() if " run " in x]
        args = line.split()
        assert args[args.index("--profile") + 1] == "paper"
        assert args[args.index("--max-steps") + 1] == "3"
        ran += [a for a in args if a in every]
    assert sorted(ran) == sorted(every)


def _make_targets() -> dict[str, list[str]]:
    every = [nb.name for nb in notebooks.discover()]
    return {t: [a for a in _make_n(t).split() if a in every] for t in ("shape", "shape-heavy")}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_shape_trains_none_of_the_heavy_pages_runs(tmp_path, monkeypatch):
    """A page that reuses a heavy page's runs (mnist/lisakib_variants compares with Table 1's
    sweep) would train them itself in ``make shape``: planned alone, the CI pages must train
    exactly what they train in the whole book's plan."""
    # A valid MNIST test split (blank images), so that the MNIST pages are planned.
    images, labels = mnist_data.FILES["t10k"]
    mnist_data.write_idx(tmp_path / images, np.zeros((10_000, 28, 28), np.uint8))
    mnist_data.write_idx(tmp_path / labels, (np.arange(10_000) % 10).astype(np.uint8))
    monkeypatch.setenv("GROKPAPER_MNIST", str(tmp_path))
    targets = _make_targets()
    every = notebooks.discover()

    def flops(names: list[str]) -> dict[str, float]:
        chosen = [nb for nb in every if nb.name in names]
        plans = planner.page_plans(chosen, "paper", {}, budget=8 * 2**30, max_steps=3)
        return {p.name: p.flops for p in plans}

    whole = flops(targets["shape"] + targets["shape-heavy"])
    alone = flops(targets["shape"])
    assert alone == {name: whole[name] for name in targets["shape"]}
    # The check has teeth: with Table 1 left out, the MNIST comparison trains its sweep.
    without = flops([n for n in whole if n != "lisakib/table1_sweep"])
    assert without["mnist/lisakib_variants"] > whole["mnist/lisakib_variants"]
