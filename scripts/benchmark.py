"""Benchmark (not a test): model-steps/s of each experiment family, one model vs ensembles.

    python scripts/benchmark.py [--device cpu|cuda] [--steps 200] [--warmup 20]
        [--sizes 1 8 64]
        [--families synthetic_mlp toy liu_transformer modular_transformer mnist_mlp]
        [--d-model 128] [--notebooks [BOOK_DIR]]

Prints JSON: a header (device, torch, threads, git sha), then for each family the throughput,
speed-up over one model, peak memory and wall time of every ensemble size, trained through the
family's own experiment code (see grokpaper/bench.py). ``--notebooks`` adds the profile and
papermill duration of every executed notebook under book/ (default) with totals per profile;
``--notebooks --families`` (no names) prints the notebook times alone. On a CPU, use fewer
steps: the d=128 transformer costs ~60 ms per model-step there.
"""

from __future__ import annotations

import argparse
import json
import sys

from grokpaper import bench
from grokpaper.core.paths import REPO_ROOT, default_device


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="default: $GROKPAPER_DEVICE, cuda, cpu")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps per measurement")
    parser.add_argument("--warmup", type=int, default=20,
                        help="steps of an untimed run per family first (0: none)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64],
                        help="ensemble sizes (members)")
    parser.add_argument("--families", nargs="*", choices=bench.FAMILIES,
                        default=list(bench.FAMILIES), help="default: all")
    parser.add_argument("--d-model", type=int, default=128,
                        help="modular transformer width (the report's 128; quick uses 64)")
    parser.add_argument("--notebooks", nargs="?", const=str(REPO_ROOT / "book"), default=None,
                        metavar="BOOK_DIR", help="also report notebook times (default: book/)")
    args = parser.parse_args(argv)
    if args.steps <= 0 or args.warmup < 0 or min(args.sizes) <= 0 or args.d_model <= 0:
        parser.error("--steps, --sizes and --d-model must be positive, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    device = args.device or default_device()
    out = {**bench.header(device), "steps": args.steps, "warmup_steps": args.warmup,
           "timing": bench.TIMING, "memory": bench.memory_method(device),
           "families": [bench.run_family(f, args.sizes, steps=args.steps, warmup=args.warmup,
                                         device=device, d_model=args.d_model)
                        for f in args.families]}
    if args.notebooks is not None:
        out["notebook_times"] = bench.notebook_times(args.notebooks)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
