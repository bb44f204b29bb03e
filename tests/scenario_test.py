#!/usr/bin/python3
"""Runs one library scenario end to end: `faultline run` must exit 0 (its expectations hold)
and its report.json must validate against docs/report.schema.json."""
import json
import pathlib
import subprocess
import sys

import jsonschema

import trace_check

faultline, scenario, out, schema = sys.argv[1:5]
proc = subprocess.run([faultline, "run", scenario, "--out", out, "--force", "--quiet"],
                      capture_output=True, text=True)
report_path = pathlib.Path(out) / "report.json"
if proc.returncode != 0:
    print(proc.stdout, proc.stderr)
    summary = pathlib.Path(out) / "summary.txt"
    if summary.exists():
        print(summary.read_text())
    sys.exit(f"{scenario}: faultline run exited {proc.returncode}")
if proc.stderr.strip():
    # SimGrid prints backtraces for comms destroyed mid-flight and similar adapter slips.
    sys.exit(f"{scenario}: unexpected output on stderr:\n{proc.stderr[-2000:]}")
report = json.loads(report_path.read_text())
jsonschema.validate(report, json.loads(pathlib.Path(schema).read_text()))
for name in ("history.jsonl", "events.jsonl", "summary.txt", "trace.json"):
    if not (pathlib.Path(out) / name).exists():
        sys.exit(f"{scenario}: {name} missing")
problems = trace_check.validate(json.loads((pathlib.Path(out) / "trace.json").read_text()), report, messages=False)
if problems:
    sys.exit(f"{scenario}: trace.json:\n" + "\n".join(problems))
for line in (pathlib.Path(out) / "history.jsonl").read_text().splitlines():
    op = json.loads(line)
    assert op["type"] in ("invoke", "ok", "fail", "info"), op
print(f"{scenario}: ok, report valid ({report['ops_ok'] if 'ops_ok' in report else '-'} ops ok, "
      f"{report['violations']} violations, wall {report['wall_time_s']:.2f} s)")
