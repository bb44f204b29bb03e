#!/usr/bin/python3
"""Draws an experiment's figure from its results.csv (faultline experiment; SCENARIOS.md,
"Experiments"), as PNG and SVG.

    plot_experiment.py RESULTS_CSV [--summary SUMMARY_JSON] [--out PREFIX]
                       [--kind cdf|line|bar] [--x COLUMN] [--y COLUMN] [--series COLUMN]
                       [--log-x] [--log-y]

The figure spec comes from summary.json (written next to results.csv) unless given on the
command line, so the script also works standalone on any results.csv. With summary.json, the
paper's reference points (percentiles of the measure plotted) are drawn over the simulated
curves as hollow markers: a CDF point (value, percentile/100).
"""
import argparse
import csv
import json
import math
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PERCENTILES = {"min": 0.0, "p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90,
               "p99": 0.99, "p999": 0.999, "max": 1.0}


def load_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def series_key(row, series):
    if not series:
        return ""
    if series == "variant":
        return row["variant"]
    # A swept path: its value is inside the point label "path=value; path2=value2".
    for part in row["point"].split("; "):
        if part.startswith(series + "="):
            return part[len(series) + 1:]
    return row["point"]


def as_float(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--summary")
    ap.add_argument("--out")
    ap.add_argument("--kind", choices=["cdf", "line", "bar", "timeseries"])
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--series")
    ap.add_argument("--log-x", action="store_true", default=None)
    ap.add_argument("--log-y", action="store_true", default=None)
    args = ap.parse_args()

    results = pathlib.Path(args.results)
    summary_path = pathlib.Path(args.summary) if args.summary else results.with_name("summary.json")
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    spec = dict(summary.get("figure") or {})
    for key in ("kind", "x", "y", "series"):
        if getattr(args, key):
            spec[key] = getattr(args, key)
    if args.log_x is not None:
        spec["log_x"] = args.log_x
    if args.log_y is not None:
        spec["log_y"] = args.log_y
    rows = load_rows(results)
    if not rows:
        sys.exit(f"{results}: no trials")
    measures = [c for c in rows[0].keys() if c not in ("point", "variant", "seed", "status")]
    kind = spec.get("kind", "cdf")
    x = spec.get("x") or measures[0]
    series = spec.get("series") or ("variant" if any(r["variant"] for r in rows) else "")
    out = pathlib.Path(args.out) if args.out else results.with_name("figure")

    groups = {}
    for row in rows:
        groups.setdefault(series_key(row, series), []).append(row)

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if kind in ("cdf", "timeseries"):
        for i, (name, members) in enumerate(groups.items()):
            values = sorted(v for v in (as_float(r.get(x)) for r in members) if v is not None)
            censored = sum(1 for r in members if as_float(r.get(x)) is None and r["status"] != "failed")
            if not values:
                continue
            n = len(values) + censored
            ys = [(k + 1) / n for k in range(len(values))]
            label = f"{name or x} (n={n}{f', {censored} censored' if censored else ''})"
            color = colors[i % len(colors)]
            ax.step(values, ys, where="post", label=label, color=color)
            # The paper's points for this line, from the reference rows of summary.json.
            for ref in summary.get("references", []):
                metric = ref.get("metric", "")
                if not metric.startswith(x + ".") or ref.get("op") not in ("≈", "~"):
                    continue
                stat = metric[len(x) + 1:]
                point = ref.get("point", "")
                same_line = not name or point == name or point.startswith(name + " ·") or point.endswith("=" + name)
                if stat not in PERCENTILES or not same_line:
                    continue
                ax.plot([ref["value"]], [PERCENTILES[stat]], marker="o", fillstyle="none",
                        color=color, linestyle="none")
        ax.set_xlabel(x)
        ax.set_ylabel("cumulative fraction of trials")
        ax.set_ylim(0, 1.02)
        ax.plot([], [], marker="o", fillstyle="none", color="gray", linestyle="none", label="paper (digitized)")
    else:
        y = spec.get("y") or measures[0]
        names = list(groups.keys())
        means = []
        for name in names:
            vals = [v for v in (as_float(r.get(y)) for r in groups[name]) if v is not None]
            means.append(sum(vals) / len(vals) if vals else float("nan"))
        if kind == "bar":
            ax.bar(range(len(names)), means, tick_label=names)
        else:
            ax.plot(range(len(names)), means, marker="o")
            ax.set_xticks(range(len(names)), names)
        ax.set_xlabel(series or "point")
        ax.set_ylabel(f"mean {y}")
    if spec.get("log_x"):
        ax.set_xscale("log")
    if spec.get("log_y"):
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(summary.get("experiment", results.parent.name))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{out}.{ext}", dpi=120)
    print(f"wrote {out}.png and {out}.svg")


if __name__ == "__main__":
    main()
