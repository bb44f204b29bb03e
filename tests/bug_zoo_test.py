#!/usr/bin/python3
"""Catch rate of one deliberately broken Raft variant (scenarios/raft/bugs/, docs/protocols/raft.md
"Broken variants (the bug zoo)").

Runs the scenario for seeds FIRST..FIRST+COUNT-1 twice:
  - as written (the bug on): at least MIN_RATE of the runs must record violations > 0;
  - with `--set params.bugs=[]` (the correct protocol, same faults): every run must record
    violations == 0.
Either way a run must end normally: exit 0 (its expectations hold) or 1 (they do not: with the
bug off, `expect: [violations > 0]` fails by design). Anything else (an abort from a RAFT_CHECK,
a crash, a validation error, any output on stderr) fails the test, and so does a check whose
verdict is unknown in the correct variant (nothing was verified there). Prints the catch rate,
the correct variant's violation count, and the command that reproduces every failing seed.

usage: bug_zoo_test.py FAULTLINE SCENARIO [--first 1] [--count 100] [--min-rate 0.9] [--jobs 2]
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("faultline")
parser.add_argument("scenario")
parser.add_argument("--first", type=int, default=1)
parser.add_argument("--count", type=int, default=100)
parser.add_argument("--min-rate", type=float, default=0.9)
parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
args = parser.parse_args()

seeds = range(args.first, args.first + args.count)
tmp = pathlib.Path(tempfile.mkdtemp(prefix="bug-zoo-"))
CORRECT = ["--set", "params.bugs=[]"]


def run(seed, variant):
    """-> (seed, variant, exit code, violations or None, the checks that recorded them,
    the checks whose verdict is unknown, error)"""
    out = tmp / f"{variant}-{seed}"
    extra = CORRECT if variant == "correct" else []
    proc = subprocess.run([args.faultline, "run", args.scenario, "--seed", str(seed), "--quiet",
                           "--out", str(out), *extra], capture_output=True, text=True)
    violations, checks, unknown, error = None, [], [], ""
    try:
        report = json.loads((out / "report.json").read_text())
        violations = report["violations"]
        checks = sorted({v["check"] for v in report.get("violation_records", [])})
        unknown = [c["name"] for c in report.get("checks", []) if c.get("ok") is None]
    except (OSError, ValueError, KeyError) as e:
        error = f"no readable report.json ({e})"
    if proc.returncode not in (0, 1):
        error = f"exit {proc.returncode}: {proc.stderr.strip()[-600:]}"
    elif proc.stderr.strip():
        # As in scenario_test.py: SimGrid prints backtraces for adapter slips (a comm destroyed
        # mid-flight, ...); a run must be silent apart from its outputs.
        error = f"unexpected output on stderr: {proc.stderr.strip()[-600:]}"
    shutil.rmtree(out, ignore_errors=True)
    return seed, variant, proc.returncode, violations, checks, unknown, error


def reproduce(seed, variant):
    extra = " " + " ".join(shlex.quote(a) for a in CORRECT) if variant == "correct" else ""
    return f"{args.faultline} run {args.scenario} --seed {seed}{extra}"


start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
    results = list(pool.map(lambda sv: run(*sv),
                            [(s, v) for s in seeds for v in ("bug", "correct")]))
wall = time.monotonic() - start
shutil.rmtree(tmp, ignore_errors=True)

errors, missed, false_alarms, unverified = [], [], [], []
caught, by_check = 0, {}
for seed, variant, code, violations, checks, unknown, error in results:
    if error:
        errors.append(f"seed {seed} ({variant}): {error}\n  reproduce: {reproduce(seed, variant)}")
        continue
    if unknown and variant == "correct":
        # No violation, but a check could not decide (e.g. a search budget ran out): the
        # correct variant was not verified in this run.
        unverified.append(f"seed {seed}: verdict unknown for {unknown}\n"
                          f"  reproduce: {reproduce(seed, variant)}")
    if variant == "bug":
        if violations > 0:
            caught += 1
            for c in checks:
                by_check[c] = by_check.get(c, 0) + 1
        else:
            missed.append(seed)
    elif violations != 0:
        false_alarms.append(f"seed {seed}: {violations} violation(s) {checks}\n"
                            f"  reproduce: {reproduce(seed, variant)}")

n = len(seeds)
name = pathlib.Path(args.scenario).stem
print(f"{name}: caught {caught}/{n} with the bug (need >= {args.min_rate:.0%}); "
      f"violations in the correct variant {len(false_alarms)}/{n}; wall {wall:.1f} s")
if by_check:
    print("  runs with a record from: " + ", ".join(f"{c} {k}/{n}" for c, k in sorted(by_check.items())))
for seed in missed:
    print(f"  not caught: seed {seed}\n    reproduce: {reproduce(seed, 'bug')}")
for line in false_alarms + unverified + errors:
    print("  " + line)
ok = not errors and not false_alarms and not unverified and caught >= args.min_rate * n
sys.exit(0 if ok else 1)
