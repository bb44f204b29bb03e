#!/usr/bin/python3
"""Draws an experiment's figure from its results.csv (faultline experiment; SCENARIOS.md,
"Experiments"), as PNG and SVG.

    plot_experiment.py RESULTS_CSV|DIR [--summary SUMMARY_JSON] [--out PREFIX]
                       [--kind cdf|line|bar|timeseries] [--x COLUMN] [--y COLUMN]
                       [--series COLUMN] [--log-x] [--log-y]
                       [--series-dir DIR] [--columns A,B,..] [--titles A,B,..] [--y-label TEXT]

The figure spec comes from summary.json (written next to results.csv) unless given on the
command line, so the script also works standalone on any results.csv or experiment directory
(DIR: DIR/results.csv and DIR/summary.json; the figure goes to DIR/figure.png and .svg). With
summary.json, the paper's reference points (percentiles of the measure plotted) are drawn over the
simulated curves as hollow markers: a CDF point (value, percentile/100).

kind timeseries draws per-trial series instead of results.csv: one CSV per point or variant in
DIR/series/ (`faultline experiment` saves each point's first trial's `series_file` there as
series/<label>.csv), each with a `time_s` column and the spec's `columns`. The figure has one
column of panels per series file (in the order of summary.json's points) and one row per
column of the CSV, titled by `titles`, as the MapReduce paper's Figure 3 (executions side by
side; Input, Shuffle and Output in MB/s against seconds). Without DIR/series/, the spec's
`series_file` in DIR itself (e.g. a run directory's rates.csv) is drawn as a single column.
"""
import argparse
import csv
import json
import math
import pathlib
import re
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


def normalized(text):
    """A label as a file name might spell it: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def load_series(path):
    """A series CSV as {column: [floats]} (empty cells and non-numbers as NaN)."""
    columns = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            for key, text in row.items():
                value = as_float(text)
                columns.setdefault(key, []).append(float("nan") if value is None else value)
    return columns


def series_files(directory, spec, summary, series_dir=None):
    """[(title, path)]: the series to draw, in the order of summary.json's points."""
    folder = pathlib.Path(series_dir) if series_dir else directory / "series"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        single = directory / spec.get("series_file", "rates.csv")
        return [(directory.name, single)] if single.exists() else []
    by_name = {normalized(f.stem): f for f in files}
    ordered = []
    for point in summary.get("points", []):
        variant, label = point.get("variant", ""), point.get("point", "")
        names = [" · ".join(x for x in (variant, label) if x), variant, label,
                 "-".join(x for x in (variant, label) if x)]
        for name in names:
            f = by_name.get(normalized(name)) if name else None
            if f is not None and all(f != g for _, g in ordered):
                ordered.append((name, f))
                break
    ordered += [(f.stem, f) for f in files if all(f != g for _, g in ordered)]
    return ordered


def plot_timeseries(directory, spec, summary, out, series_dir=None):
    """Columns = series files (executions), rows = the spec's columns (e.g. Input, Shuffle,
    Output); each panel the column against time_s, filled to zero (negative values below)."""
    found = series_files(directory, spec, summary, series_dir)
    if not found:
        sys.exit(f"{directory}: no series/*.csv and no {spec.get('series_file', 'rates.csv')}")
    data = [(title, load_series(path)) for title, path in found]
    columns = spec.get("columns") or [c for c in data[0][1] if c != "time_s"]
    titles = list(spec.get("titles") or [])
    titles += columns[len(titles):]
    y_label = spec.get("y_label", "")
    rows, cols = len(columns), len(data)
    fig, axes = plt.subplots(rows, cols, figsize=(1.0 + 3.4 * cols, 0.8 + 1.9 * rows),
                             sharex=True, sharey="row", squeeze=False)
    color = plt.rcParams["axes.prop_cycle"].by_key()["color"][0]
    for j, (title, series) in enumerate(data):
        times = series.get("time_s", [])
        letter = f"({chr(ord('a') + j)}) " if cols > 1 and j < 26 else ""
        if cols > 1 or title != summary.get("experiment", directory.name):
            axes[0][j].set_title(f"{letter}{title}", fontsize=10)
        for i, column in enumerate(columns):
            ax = axes[i][j]
            values = series.get(column)
            if values is None or not times:
                ax.text(0.5, 0.5, f"no {column}", transform=ax.transAxes, ha="center", va="center",
                        color="gray")
            else:
                # Each value is the rate over [time_s, time_s + 1): a step that holds to the end.
                xs = times + [times[-1] + (times[-1] - times[-2] if len(times) > 1 else 1)]
                ys = values + values[-1:]
                ax.fill_between(xs, ys, step="post", color=color, alpha=0.35, linewidth=0)
                ax.step(xs, ys, where="post", color=color, linewidth=0.8)
                ax.axhline(0, color="black", linewidth=0.5)
            ax.grid(True, alpha=0.3)
            if j == 0:
                ax.set_ylabel(f"{titles[i]} ({y_label})" if y_label else titles[i])
            if i == rows - 1:
                ax.set_xlabel("Seconds")
    for ax in axes.flat:
        ax.set_xlim(left=0)
    fig.suptitle(summary.get("experiment", directory.name))
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{out}.{ext}", dpi=120)
    print(f"wrote {out}.png and {out}.svg")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="results.csv, or an experiment (or run) directory")
    ap.add_argument("--summary")
    ap.add_argument("--out")
    ap.add_argument("--kind", choices=["cdf", "line", "bar", "timeseries"])
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--series")
    ap.add_argument("--log-x", action="store_true", default=None)
    ap.add_argument("--log-y", action="store_true", default=None)
    ap.add_argument("--series-dir", help="timeseries: the per-point CSVs (default DIR/series)")
    ap.add_argument("--columns", help="timeseries: comma-separated CSV columns, one row of panels each")
    ap.add_argument("--titles", help="timeseries: comma-separated row titles")
    ap.add_argument("--y-label", help="timeseries: the unit on the y axes, e.g. MB/s")
    args = ap.parse_args()

    results = pathlib.Path(args.results)
    if not results.exists():
        sys.exit(f"{results}: no such file or directory")
    if results.is_dir():
        results = results / "results.csv"
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
    for key in ("columns", "titles"):
        if getattr(args, key):
            spec[key] = getattr(args, key).split(",")
    if args.y_label:
        spec["y_label"] = args.y_label
    if spec.get("kind") == "timeseries":
        out = pathlib.Path(args.out) if args.out else results.with_name("figure")
        plot_timeseries(results.parent, spec, summary, out, args.series_dir)
        return
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
    if kind == "cdf":
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
