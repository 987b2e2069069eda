"""How fast a device runs each family: rates measured here, or assumed for an accelerator.

A training step of an ensemble of E members is predicted to take ``step_s + E * F / R``: a fixed
part (Python, kernel launches, the elementwise optimizer and loss, which vectorization does not
multiply) and the matmul FLOPs ``F`` of :class:`grokpaper.core.cost.EnsembleCost` at a rate
``R``. An evaluation pays a third of the fixed part per forward pass (one forward pass of the
step's three) plus its FLOPs at the same rate.

On this machine both numbers come from a calibration per family (``grokpaper.bench``: a short
run at two ensemble sizes, solved for the two unknowns). On an accelerator without one they
are assumed: ``R`` its datasheet's peak times an efficiency, ``step_s`` the aten operations a
step dispatches (counted on the CPU by the calibration; the GPU runs one kernel each) times the
host's time to launch one. The assumptions are stated by every :class:`Accelerator`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grokpaper.core.cost import EnsembleCost


@dataclass(frozen=True)
class Rate:
    """One family on one device: matmul FLOP/s and the fixed time of one optimizer step."""

    flops_per_s: float
    step_s: float

    def seconds(self, cost: EnsembleCost, members: int) -> float:
        """Predicted wall time of an ensemble of ``members`` with ``cost``."""
        train = cost.steps * (self.step_s + members * cost.train_flops / self.flops_per_s)
        per_eval = (self.step_s / 3 * cost.eval_batches
                    + members * cost.eval_flops / self.flops_per_s)
        return train + (cost.evals + cost.checks) * per_eval


@dataclass(frozen=True)
class Accelerator:
    """A device we have not measured: its assumed rates, with where each number comes from."""

    name: str
    peak_flops: float  # FP32 FLOP/s of the datasheet
    efficiency: float  # share of the peak these small batched matmuls are assumed to reach
    op_s: float  # host time to dispatch one aten operation (eager PyTorch)
    memory_bytes: int
    source: str

    @property
    def flops_per_s(self) -> float:
        return self.peak_flops * self.efficiency

    def rate(self, ops_per_step: float) -> Rate:
        """The rate of a family whose step dispatches ``ops_per_step`` operations."""
        return Rate(self.flops_per_s, ops_per_step * self.op_s)


#: An H100-class GPU, assumed (no GPU was lent to this project).
H100 = Accelerator(
    name="H100 SXM 80GB (assumed)", peak_flops=67e12, efficiency=0.3, op_s=10e-6,
    memory_bytes=80 * 10**9,
    source="NVIDIA H100 SXM5 datasheet: 67 TFLOPS FP32 (matmuls run in FP32: TF32 is off "
           "unless GROKPAPER_TF32=1); assumed 30% of it on these small batched matmuls "
           "(20 TFLOP/s), and 10 us of host time per dispatched operation (eager PyTorch; no "
           "host sync per step, so the GPU runs behind the host), 80 GB of memory")


@dataclass(frozen=True)
class Calibration:
    """Rates measured on one machine, per family, and the operations a step dispatches."""

    device: str
    device_name: str
    rates: dict[str, Rate]
    ops_per_step: dict[str, float]
    load_avg: float  # 1-minute load average when it ran (a busy machine reads slower)
    source: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "rates": {k: asdict(v) for k, v in
                                                     self.rates.items()}}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        raw = json.loads(text)
        return cls(**{**raw, "rates": {k: Rate(**v) for k, v in raw["rates"].items()}})


def fit(points: list[tuple[float, float, float, float]]) -> Rate:
    """The rate through measurements ``(fixed_units, flops, seconds, weight)``: each run took
    ``fixed_units * step_s + flops / R`` seconds (weighted least squares; two runs at
    different ensemble sizes determine it). A negative fixed part (noise, or a machine busier
    for the small run) is dropped and ``R`` refitted from the FLOPs alone."""
    sx2 = sum(w * u * u for u, _, _, w in points)
    sxy = sum(w * u * f for u, f, _, w in points)
    sy2 = sum(w * f * f for _, f, _, w in points)
    sxt = sum(w * u * t for u, _, t, w in points)
    syt = sum(w * f * t for _, f, t, w in points)
    det = sx2 * sy2 - sxy * sxy
    if det > 0:
        step_s = (sxt * sy2 - syt * sxy) / det
        inv_rate = (sx2 * syt - sxy * sxt) / det
        if step_s >= 0 and inv_rate > 0:
            return Rate(1.0 / inv_rate, step_s)
    if sy2 > 0 and syt > 0:  # no usable fixed part: FLOPs alone
        return Rate(sy2 / syt, 0.0)
    raise ValueError("cannot fit a rate: the measurements carry no FLOPs")


def load_any(path: Path | str) -> Calibration | Accelerator:
    """A throughput file: a :class:`Calibration` (``grokpaper plan`` writes them; the
    benchmark's JSON is turned into one by ``grokpaper.bench``) or an accelerator's assumed
    figures: ``{"name", "peak_flops", "efficiency", "op_s", "memory_bytes", "source"}``."""
    raw: dict[str, Any] = json.loads(Path(path).read_text())
    if "rates" in raw:
        return Calibration.from_json(json.dumps(raw))
    need = {"name", "peak_flops", "efficiency", "op_s", "memory_bytes"}
    if not need <= set(raw):
        raise ValueError(f"{path}: an accelerator needs {sorted(need)} (and a source), "
                         f"a calibration 'rates'; found {sorted(raw)}")
    return Accelerator(**{"source": f"read from {path}", **raw})


def human_seconds(s: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``, ``3.2 d``."""
    if not math.isfinite(s):
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size * 1.5:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"
