#!/usr/bin/python3
"""Seeded swarm (TigerBeetle's VOPR idea, STYLE.md point 9): many seeds x random faults from the
nemesis (crash, restart, partition) over an unreliable network, then a calm liveness phase.
Every seed must end with zero safety violations, a leader, and new writes committed after the
nemesis stopped (the scenario's `expect:` lines say what each seed must show). Arguments after
COUNT are passed on to `faultline run` (e.g. `--set params.app=grep`). Prints the `faultline run`
command that reproduces any failing seed."""
import json
import pathlib
import shlex
import subprocess
import sys
import tempfile

faultline, scenario, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
extra = sys.argv[5:]
tmp = pathlib.Path(tempfile.mkdtemp())
failures = []
for seed in range(first, first + count):
    out = tmp / f"seed{seed}"
    proc = subprocess.run([faultline, "run", scenario, "--seed", str(seed), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        detail = proc.stderr.strip()
        try:
            report = json.loads((out / "report.json").read_text())
            detail = "; ".join(f"{e['expr']} (value {e['value']})" for e in report["expectations"] if not e["ok"])
            detail += "".join(f"\n    {v['check']}: {v['detail']}" for v in report["violation_records"][:3])
        except (OSError, ValueError, KeyError):
            pass
        failures.append(f"seed {seed}: exit {proc.returncode}: {detail}\n"
                        f"  reproduce: {shlex.join([faultline, 'run', scenario, '--seed', str(seed), *extra])}")
print(f"swarm seeds {first}..{first + count - 1}{' ' + shlex.join(extra) if extra else ''}: "
      f"{count - len(failures)} passed, {len(failures)} failed")
if failures:
    print("\n".join(failures))
    sys.exit(1)
