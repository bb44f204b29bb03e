#!/usr/bin/python3
"""Same file + same seed => byte-identical events.jsonl, history.jsonl and trace.json, and report.json
identical apart from wall_* fields (DESIGN.md, "Determinism"). Also: another seed differs."""
import json
import pathlib
import subprocess
import sys
import tempfile

faultline = sys.argv[1]
scenarios = sys.argv[2:]
tmp = pathlib.Path(tempfile.mkdtemp())


def run(scenario, out, seed=None):
    cmd = [faultline, "run", scenario, "--out", str(out), "--force", "--quiet"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    subprocess.run(cmd, check=False, capture_output=True)
    return out


def without_wall(value):
    if isinstance(value, dict):
        return {k: without_wall(v) for k, v in value.items() if not k.startswith("wall_")}
    if isinstance(value, list):
        return [without_wall(v) for v in value]
    return value


failures = []
for i, scenario in enumerate(scenarios):
    a = run(scenario, tmp / f"{i}-a")
    b = run(scenario, tmp / f"{i}-b")
    for name in ("events.jsonl", "history.jsonl", "trace.json"):
        if (a / name).read_bytes() != (b / name).read_bytes():
            failures.append(f"{scenario}: {name} differs between two runs with the same seed")
    ra = without_wall(json.loads((a / "report.json").read_text()))
    rb = without_wall(json.loads((b / "report.json").read_text()))
    if ra != rb:
        failures.append(f"{scenario}: report.json differs between two runs with the same seed")
    c = run(scenario, tmp / f"{i}-c", seed=12345)
    if (a / "events.jsonl").read_bytes() == (c / "events.jsonl").read_bytes():
        failures.append(f"{scenario}: seed 12345 gave the same events as the file's seed")
    print(f"{scenario}: deterministic")
if failures:
    print("\n".join(failures))
    sys.exit(1)
