"""How matching improves as staff feedback accumulates, on the dev labels used as simulated
feedback (eufunds/learning_curve.py says how): a markdown table per coverage, and how long
it took.

Example: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/feedback_curve.py --folds 5
"""

from __future__ import annotations

import argparse
import time

import harness

from eufunds.config import load_config
from eufunds.learning import read_labelled_calls
from eufunds.learning_curve import COVERAGES, SIZES, feedback_curve, simulation


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    """Print the learning curve of every coverage."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default=str(harness.SHARED / "eval" / "dev.jsonl"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    arguments = parser.parse_args()
    started = time.perf_counter()
    calls, labels = read_labelled_calls(harness.Path(arguments.labels))
    sim = simulation(load_config(), calls, labels)
    seeds = " ".join(map(str, arguments.seeds))
    for coverage in COVERAGES:
        points = feedback_curve(sim, arguments.folds, arguments.seeds, SIZES, coverage)
        print(
            f"\nFeedback on {coverage} pairs of N calls, {len(calls)} calls, "
            f"{arguments.folds}-fold CV, seeds {seeds}\n"
        )
        print(
            "| feedback calls (N) | calls judged | labelled pairs | relevant | folds learnt "
            "| nDCG@10 | digest P | digest R |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for point in points:
            size = "all" if point.size is None else str(point.size)
            print(
                f"| {size} | {point.calls:.0f} | {point.pairs:.0f} | {point.relevant:.1f} "
                f"| {point.learnt:.0%} | {_number(point.ndcg10)} | {_number(point.precision)} "
                f"| {_number(point.recall)} |"
            )
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
