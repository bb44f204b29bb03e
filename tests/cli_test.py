#!/usr/bin/python3
"""The faultline command line (SCENARIOS.md, "Command line" and "Exit codes"): subcommands,
options, output-directory rules, --set, --seed and exit codes."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

faultline, root = sys.argv[1], pathlib.Path(sys.argv[2])
scenario = str(root / "scenarios" / "raft" / "leader-crash.yaml")
tmp = pathlib.Path(tempfile.mkdtemp())
failures = []


def fl(*args, cwd=None):
    return subprocess.run([faultline, *args], capture_output=True, text=True, cwd=cwd)


def expect(name, proc, code, *fragments):
    out = proc.stdout + proc.stderr
    if proc.returncode != code:
        failures.append(f"{name}: exit {proc.returncode}, expected {code}\n{out[-2000:]}")
        return
    for f in fragments:
        if f not in out:
            failures.append(f"{name}: '{f}' not in output:\n{out[-2000:]}")


expect("--help", fl("--help"), 0, "run", "validate", "list", "explain")
expect("run --help", fl("run", "--help"), 0, "--seed", "--out", "--force", "--set")
expect("no subcommand", fl(), 2)
expect("unknown subcommand", fl("bogus"), 2)
expect("run without file", fl("run"), 2)
expect("missing file", fl("run", str(tmp / "nope.yaml"), "--out", str(tmp / "x")), 2, "nope.yaml:1:1: error")
if (tmp / "x").exists():
    failures.append("missing file: output directory created")

expect("validate good", fl("validate", scenario, str(root / "tests/data/good/minimal.yaml")), 0, "ok")
expect("validate bad", fl("validate", scenario, str(root / "tests/data/bad/unknown_param.yaml")), 2, "error")

proc = fl("list")
expect("list", proc, 0, "raft", "leader-crash.yaml")
proc = fl("list", "--json")
expect("list --json", proc, 0)
try:
    listing = json.loads(proc.stdout)
    raft = [p for p in listing["protocols"] if p["name"] == "raft"][0]
    assert raft["implemented"] and "leader" in raft["roles"]
    names = {s["file"].split("/")[-1] for s in listing["scenarios"]}
    assert {"leader-crash.yaml", "figure-8.yaml", "churn.yaml"} <= names, names
except Exception as e:  # noqa: BLE001
    failures.append(f"list --json: {e!r}")

expect("explain", fl("explain", "raft"), 0, "election_timeout", "heartbeat_interval", "raft.safety", "leader_changes")
proc = fl("explain", "raft", "--json")
try:
    info = json.loads(proc.stdout)
    assert any(p["name"] == "election_timeout" and p["default"] == "[150ms, 300ms]" for p in info["params"])
    assert any(m["path"] == "election_time_ms" and m["stats"] for m in info["metrics"])
except Exception as e:  # noqa: BLE001
    failures.append(f"explain --json: {e!r}")
expect("explain unknown", fl("explain", "raf"), 2, "did you mean 'raft'")

# Output directories: the default is runs/<name>-seed<N>/ under the working directory.
work = tmp / "work"
work.mkdir()
expect("run default dir", fl("run", scenario, "--quiet", cwd=work), 0)
if not (work / "runs" / "raft-leader-crash-seed1" / "report.json").exists():
    failures.append("run: default output directory runs/raft-leader-crash-seed1/ missing")
expect("run --seed", fl("run", scenario, "--quiet", "--seed", "5", cwd=work), 0)
seeded = work / "runs" / "raft-leader-crash-seed5" / "report.json"
if not seeded.exists() or json.loads(seeded.read_text())["seed"] != 5:
    failures.append("run --seed 5: runs/raft-leader-crash-seed5/report.json missing or wrong seed")

out = tmp / "out"
out.mkdir()
(out / "keep.txt").write_text("user data")
expect("--out non-empty", fl("run", scenario, "--out", str(out), "--quiet"), 2, "--force")
if not (out / "keep.txt").exists():
    failures.append("--out non-empty: existing content touched without --force")
expect("--out --force", fl("run", scenario, "--out", str(out), "--force", "--quiet"), 0)
if (out / "keep.txt").exists() or not (out / "report.json").exists():
    failures.append("--force: directory not replaced")

proc = fl("run", scenario, "--out", str(tmp / "set"), "--quiet", "--set", "params.heartbeat_interval=40ms",
          "--set", "workload.ops=400")
expect("--set", proc, 0)
try:
    cfg = json.loads((tmp / "set" / "report.json").read_text())["config"]
    assert cfg["params"]["heartbeat_interval"] == "40ms", cfg["params"]
    assert cfg["workload"]["ops"] == 400, cfg["workload"]
except Exception as e:  # noqa: BLE001
    failures.append(f"--set: {e!r}")
expect("--set unknown key", fl("run", scenario, "--out", str(tmp / "bad"), "--set", "params.heartbeat=40ms"), 2,
       "unknown key 'heartbeat'", "heartbeat_interval")
if (tmp / "bad").exists():
    failures.append("--set unknown key: output directory created")

# An expectation that fails: exit 1, and the report says which and why.
proc = fl("run", scenario, "--out", str(tmp / "fail"), "--quiet", "--set", 'expect=["ops_ok > 1000000"]')
expect("failing expectation", proc, 1)
try:
    report = json.loads((tmp / "fail" / "report.json").read_text())
    assert report["expectations"][0]["ok"] is False
except Exception as e:  # noqa: BLE001
    failures.append(f"failing expectation: {e!r}")
# No expectations and no violation: exit 0 (the checks decide).
expect("no expectations", fl("run", scenario, "--out", str(tmp / "noexp"), "--quiet", "--set", "expect=[]"), 0)

print(f"cli checks: {len(failures)} failure(s)")
if failures:
    print("\n\n".join(failures))
    sys.exit(1)
