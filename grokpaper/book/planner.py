"""``grokpaper plan``: what the chosen notebooks will train under a profile and what it costs,
before anything trains: per notebook and in total, the runs, the ensembles (members per chunk,
sized to the device's memory budget as the sweeps will size them), the model-steps, the FLOPs,
the peak device memory and the predicted wall time on this machine and on an accelerator.

A notebook's figures and parameters are read from its source (its ``profiles.resolve`` calls,
:func:`grokpaper.book.notebooks.notebook_parameters`), resolved under the profile (with the
``-p`` overrides and a shape run's step cap), and handed to the wings' workloads
(:mod:`grokpaper.core.plan`). Rates: :mod:`grokpaper.core.throughput`.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grokpaper.book.notebooks import Notebook, load_class, notebook_parameters
from grokpaper.core import profiles
from grokpaper.core.memory import BUDGET_ENV, USABLE, budget
from grokpaper.core.mnist_data import MnistNotFound
from grokpaper.core.paths import default_device
from grokpaper.core.plan import PagePlan, plan_page, works
from grokpaper.core.processes import workers_for
from grokpaper.core.throughput import (
    H100,
    Accelerator,
    Calibration,
    Rate,
    human_seconds,
    load_any,
)


def page_plans(chosen: list[Notebook], profile: str, params: dict[str, Any], *,
               budget: float, max_steps: int | None = None) -> list[PagePlan]:
    """The plan of every chosen notebook, in run order (a run planned by an earlier notebook
    is counted there, as the store will hold it)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for nb in chosen:
        info = notebook_parameters(nb)
        context = {"data_dir": params.get("data_dir", info.defaults.get("data_dir"))}
        work = []
        try:
            for figures, where, mapping in info.resolves:
                cls = load_class(where)
                changes = {field: params[name] for name, field in mapping.items()
                           if name in params}
                for figure in figures:
                    resolved = profiles.resolve(figure, cls, profile, **changes)
                    work += works(figure, profiles.cap_steps(resolved, max_steps), context)
        except MnistNotFound:
            out.append(PagePlan(nb.name, note="not run: no MNIST data"))
            continue
        out.append(plan_page(nb.name, work, budget, seen))
    return out


@dataclass(frozen=True)
class Rates:
    """Rates per family of the two columns: this machine and an accelerator."""

    here: dict[str, Rate]
    here_name: str
    accelerator: dict[str, Rate]
    accelerator_name: str
    notes: tuple[str, ...]


def rates(device: str, throughput: Path | None = None, *, refresh: bool = False) -> Rates:
    """This machine's rates (its cached calibration, else a short new one; or ``throughput``
    when that is a calibration or the benchmark's JSON) and the accelerator's: measured when
    ``throughput`` is a calibration made on a GPU, else :data:`H100` or the accelerator it
    describes."""
    # The calibration trains every family (it imports every wing): loaded by name, only here.
    calibration = importlib.import_module("grokpaper.calibration")
    given: Calibration | Accelerator | None = None
    if throughput is not None:
        raw = json.loads(throughput.read_text())
        given = (calibration.from_benchmark(raw) if "families" in raw
                 else load_any(throughput))
    local = "cpu" if device.startswith("cuda") else device
    if isinstance(given, Calibration) and not given.device.startswith("cuda"):
        here = given
    else:
        here = calibration.load_or_calibrate(local, refresh=refresh)
    notes = [f"this machine: {here.device_name}, {here.source} (load average "
             f"{here.load_avg:g} then)"]
    if isinstance(given, Calibration) and given.device.startswith("cuda"):
        accel, name = given.rates, given.device_name + " (measured)"
        notes.append(f"accelerator: {given.source}")
    else:
        spec = given if isinstance(given, Accelerator) else H100
        accel = {f: spec.rate(n) for f, n in here.ops_per_step.items()}
        name = spec.name
        notes.append(f"accelerator: {spec.source}")
    return Rates(here.rates, here.device_name, accel, name, tuple(notes))


def budget_for(device: str, accelerator: Accelerator = H100) -> float:
    """The memory budget the sweeps will size chunks to on ``device``
    (:func:`grokpaper.core.sweep.chunk_budget`: on a CPU, shared among the worker processes);
    for a GPU this machine does not have, :data:`USABLE` of the accelerator's memory."""
    if device.startswith("cuda"):
        try:
            return budget(device)
        except (RuntimeError, AssertionError, ValueError):  # no GPU here
            return USABLE * accelerator.memory_bytes
    if os.environ.get(BUDGET_ENV, "").strip():
        return budget(device)
    # As the sweeps share it out (core.sweep.chunk_budget): one chunk per worker process.
    return budget(device) / workers_for(device, sys.maxsize)


def as_dict(pages: list[PagePlan], found: Rates | None) -> dict[str, Any]:
    """The plan as JSON-ready numbers (seconds NaN-free: null where a rate is missing)."""

    def secs(page: PagePlan, table: dict[str, Rate]) -> float | None:
        s = page.seconds(table)
        return None if math.isnan(s) else round(s, 1)

    rows = []
    for p in pages:
        row = {"notebook": p.name, "runs": p.runs, "reused": p.reused,
               "ensembles": len(p.ensembles), "max_members": p.max_members,
               "model_steps": p.model_steps, "flops": p.flops, "peak_bytes": p.peak_bytes,
               "note": p.note}
        if found is not None:
            row["seconds_here"] = secs(p, found.here)
            row["seconds_accelerator"] = secs(p, found.accelerator)
        rows.append(row)
    total = {k: sum(r[k] or 0 for r in rows) for k in ("runs", "reused", "ensembles",
                                                       "model_steps", "flops")}
    total["peak_bytes"] = max((r["peak_bytes"] for r in rows), default=0.0)
    total["max_members"] = max((r["max_members"] for r in rows), default=0)
    for col in ("seconds_here", "seconds_accelerator"):
        if found is not None:
            total[col] = round(sum(r[col] or 0.0 for r in rows), 1)
    return {"pages": rows, "total": total}


def _gib(b: float) -> str:
    return f"{b / 2**30:.2f} GiB" if b else "-"


def table(plan: dict[str, Any], found: Rates | None) -> str:
    """The plan as a fixed-width text table, one line per notebook and a total."""
    head = ["notebook", "runs", "ens.", "members", "model-steps", "FLOPs", "peak mem"]
    if found is not None:
        head += ["here", "accelerator"]
    lines = []
    for r in [*plan["pages"], {**plan["total"], "notebook": "total", "note": ""}]:
        cells = [r["notebook"], str(r["runs"]), str(r["ensembles"]), str(r["max_members"]),
                 f"{r['model_steps']:.3g}", f"{r['flops']:.3g}", _gib(r["peak_bytes"])]
        if found is not None:
            cells += [human_seconds(r["seconds_here"]) if r["seconds_here"] is not None
                      else "?", human_seconds(r["seconds_accelerator"])
                      if r["seconds_accelerator"] is not None else "?"]
        if r["note"]:
            cells = [cells[0], r["note"]]
        lines.append(cells)
    widths = [max(len(c[i]) for c in [head, *lines] if i < len(c)) for i in range(len(head))]
    fmt = [head, ["-" * w for w in widths], *lines[:-1], ["-" * w for w in widths], lines[-1]]
    text = "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=False)))
                     for row in fmt)
    if found is not None:
        text += (f"\n\nhere: {found.here_name}; accelerator: {found.accelerator_name}\n"
                 + "\n".join(f"- {n}" for n in found.notes))
    return text


def report(chosen: list[Notebook], profile: str, params: dict[str, Any], *,
           max_steps: int | None = None, device: str | None = None,
           throughput: Path | None = None, calibrate: bool = False, times: bool = True,
           as_json: bool = False) -> str:
    """``grokpaper plan``'s output: a table (or JSON) per notebook and in total."""
    device = device or default_device()
    found = rates(device, throughput, refresh=calibrate) if times else None
    room = budget_for(device)
    plan = as_dict(page_plans(chosen, profile, params, budget=room, max_steps=max_steps), found)
    if as_json:
        return json.dumps({"profile": profile, "max_steps": max_steps, "device": device,
                           "budget_bytes": room, "notes": list(found.notes) if found else [],
                           **plan}, indent=1)
    head = (f"plan: profile {profile}"
            + (f", step budgets capped at {max_steps}" if max_steps else "")
            + f"; ensembles sized for {device} ({room / 2**30:.1f} GiB budget); times: "
            f"training and evaluation, not the kernels' start, analysis and plots\n")
    return head + "\n" + table(plan, found)


def too_long(chosen: list[Notebook], profile: str, params: dict[str, Any], *,
             limit_s: float) -> bool:
    """Whether the chosen notebooks are predicted to take longer than ``limit_s`` on this
    CPU; if so, the plan and the prediction go to stderr."""
    print(f"planning the {profile} profile on this CPU (the first time, a calibration of a "
          f"few minutes)...", file=sys.stderr)
    found = rates("cpu")
    plan = as_dict(page_plans(chosen, profile, params, budget=budget_for("cpu"),
                              max_steps=profiles.max_steps()), found)
    total = plan["total"]["seconds_here"]
    if total <= limit_s:
        return False
    print(table(plan, found), file=sys.stderr)
    print(f"\ngrokpaper run: the {profile} profile is predicted to take "
          f"{human_seconds(total)} on this CPU (~"
          f"{human_seconds(plan['total']['seconds_accelerator'])} on {found.accelerator_name})",
          file=sys.stderr)
    return True
