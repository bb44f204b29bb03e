#!/usr/bin/python3
"""Runs one library experiment with a few trials per point (`--trials 4`): exit 0 or 1 (a
reference row may miss with so few trials, never 2 or a crash), no failed trial, every output
present and well-formed (results.csv rows, summary.json statistics, comparison.md rows, the
figure), and results.csv byte-identical with --jobs 1 and --jobs 2."""
import csv
import json
import pathlib
import subprocess
import sys

faultline, experiment, out = sys.argv[1:4]
out = pathlib.Path(out)
# Paper-scale experiments (the MapReduce figures: one 1800-machine run per point) take one.
TRIALS = int(sys.argv[4]) if len(sys.argv) > 4 else 4


def run(jobs, directory):
    proc = subprocess.run([faultline, "experiment", experiment, "--trials", str(TRIALS), "--jobs",
                           str(jobs), "--out", str(directory), "--force"],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"{experiment}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


proc = run(2, out / "jobs2")
d = out / "jobs2"
for name in ("results.csv", "summary.json", "comparison.md", "figure.png", "figure.svg"):
    if not (d / name).exists():
        sys.exit(f"{experiment}: {name} missing\n{proc.stdout}\n{proc.stderr}")
if not (d / "figure.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n"):
    sys.exit(f"{experiment}: figure.png is not a PNG")
summary = json.loads((d / "summary.json").read_text())
if summary["failed_trials"]:
    sys.exit(f"{experiment}: failed trials: {summary['failed_trials']}")
rows = list(csv.DictReader((d / "results.csv").open()))
points = summary["points"]
assert len(rows) == TRIALS * len(points), (len(rows), len(points))
assert all(r["status"] in ("ok", "violations") for r in rows), rows
for p in points:
    assert p["trials"] == TRIALS, p
    for name, m in p["measures"].items():
        assert m["count"] + m["censored"] == TRIALS, (p["point"], p["variant"], name, m)
        for k in ("min", "p10", "p25", "p50", "p75", "p90", "p99", "p999", "max", "mean"):
            assert k in m, k
        if m["count"]:
            assert m["min"] <= m["p50"] <= m["max"], m
table = [l for l in (d / "comparison.md").read_text().splitlines() if l.startswith("| ") and "---" not in l]
assert len(table) == len(summary["references"]) + 1, (len(table), len(summary["references"]))

run(1, out / "jobs1")
if (out / "jobs1" / "results.csv").read_bytes() != (d / "results.csv").read_bytes():
    sys.exit(f"{experiment}: results.csv differs between --jobs 1 and --jobs 2")
within = sum(1 for r in summary["references"] if r["within"])
print(f"{experiment}: ok, {len(rows)} trials, {within}/{len(summary['references'])} reference rows "
      f"within tolerance at {TRIALS} trials per point")
