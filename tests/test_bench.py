"""The benchmark: every family trains through its experiment code (2 steps, CPU), the JSON has
its fields, and notebook times are read from papermill metadata."""

import json
import runpy
from pathlib import Path

import pytest

from grokpaper import bench

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark.py"
ROW_KEYS = {"members", "steps", "wall_s", "setup_s", "model_steps_per_s", "threads",
            "peak_memory_mib", "speedup_vs_one"}


@pytest.fixture(autouse=True)
def _small_resnet(monkeypatch):
    """ResNet-18 steps take seconds on a CPU: the tests time the tiny one."""
    monkeypatch.setattr(bench, "RESNET_ARCH", "tiny")


@pytest.mark.parametrize("family", bench.FAMILIES)
def test_each_family_reports_positive_throughput(family):
    out = bench.run_family(family, [2, 1], steps=2, warmup=0, device="cpu", d_model=32)
    assert out["family"] == family and out["data"] and out["timed"].endswith(
        ("train_ensemble", "train_toy", "train_classifier"))
    rows = out["results"]
    assert [r["members"] for r in rows] == [1, 2]  # sorted ascending
    for r in rows:
        assert set(r) >= ROW_KEYS
        assert r["wall_s"] > 0 and r["model_steps_per_s"] > 0 and r["speedup_vs_one"] > 0
        assert r["setup_s"] >= 0 and r["peak_memory_mib"] >= 0 and r["threads"] >= 1
    assert rows[0]["speedup_vs_one"] == 1.0


def test_the_width_option_reaches_the_transformer():
    out = bench.run_family("modular_transformer", [1], steps=1, warmup=0, device="cpu",
                           d_model=16)
    assert "d_model=16" in out["model"]


def _notebook(path: Path, profile: str | None, duration: float | None) -> None:
    meta = {"grokpaper": {"profile": profile, "parameters": {}}} if profile else {}
    if duration is not None:
        meta["papermill"] = {"duration": duration, "exception": None, "end_time": "t"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": meta, "nbformat": 4,
                                "nbformat_minor": 5}))


def test_notebook_times_per_profile(tmp_path):
    _notebook(tmp_path / "liu" / "a.ipynb", "quick", 10.26)
    _notebook(tmp_path / "liu" / "b.ipynb", "quick", 5.0)
    _notebook(tmp_path / "c.ipynb", "paper", 100.0)
    _notebook(tmp_path / "d.ipynb", "smoke", None)  # not executed by papermill
    _notebook(tmp_path / "_build" / "jupyter_execute" / "e.ipynb", "quick", 999.0)
    (tmp_path / "broken.ipynb").write_text("{not json")
    out = bench.notebook_times(tmp_path)
    names = [r["notebook"] for r in out["notebooks"]]
    assert names == ["broken.ipynb", "c.ipynb", "d.ipynb", "liu/a.ipynb", "liu/b.ipynb"]
    by = {r["notebook"]: r for r in out["notebooks"]}
    assert by["liu/a.ipynb"]["profile"] == "quick" and by["liu/a.ipynb"]["duration_s"] == 10.3
    assert by["broken.ipynb"]["error"] == "JSONDecodeError"
    totals = out["totals_by_profile"]
    assert totals["quick"] == {"notebooks": 2, "timed": 2, "total_s": 15.3}
    assert totals["paper"]["total_s"] == 100.0 and list(totals)[:3] == ["smoke", "quick", "paper"]
    assert totals["smoke"] == {"notebooks": 1, "timed": 0, "total_s": 0.0}
    assert totals["None"]["notebooks"] == 1


def test_script_prints_header_and_notebook_times(tmp_path, capsys):
    _notebook(tmp_path / "x.ipynb", "quick", 3.0)
    main = runpy.run_path(str(SCRIPT))["main"]
    assert main(["--device", "cpu", "--steps", "1", "--warmup", "0", "--sizes", "1",
                 "--families", "toy", "--notebooks", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"device_name", "torch", "threads", "git_sha", "memory", "timing",
            "load_avg_1m_at_start"} <= set(out)
    assert [f["family"] for f in out["families"]] == ["toy"]
    assert out["notebook_times"]["totals_by_profile"]["quick"]["total_s"] == 3.0
