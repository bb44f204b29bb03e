#!/usr/bin/python3
"""Every file in tests/data/bad/ is bad in exactly one way. `faultline run` and `validate` must
exit 2 with `file:line:col: error: ...` naming the place and the problem given in the file's
first line (`# expect: LINE:COL fragment`), never crash, and create no output directory."""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

faultline, bad_dir = sys.argv[1:3]
failures = []
files = sorted(pathlib.Path(bad_dir).glob("*.yaml"))
if not files:
    sys.exit("no bad-input fixtures found")
for path in files:
    first = path.read_text(errors="replace").splitlines()[0] if path.stat().st_size else ""
    m = re.match(r"#\s*expect:\s*(\d+):(\d+)\s+(.*)", first)
    out = pathlib.Path(tempfile.mkdtemp()) / "never-created"
    for cmd in (["run", str(path), "--out", str(out)], ["validate", str(path)]):
        proc = subprocess.run([faultline, *cmd], capture_output=True, text=True)
        if proc.returncode != 2:
            failures.append(f"{path.name}: `{cmd[0]}` exited {proc.returncode}, expected 2\n{proc.stderr}")
            continue
        if out.exists():
            failures.append(f"{path.name}: an output directory was created for invalid input")
        if not re.search(r":\d+:\d+: error: ", proc.stderr):
            failures.append(f"{path.name}: no file:line:col error in: {proc.stderr!r}")
        if m:
            where = f"{path}:{m.group(1)}:{m.group(2)}: error: "
            if where not in proc.stderr or m.group(3).strip() not in proc.stderr:
                failures.append(f"{path.name}: expected '{where}...{m.group(3).strip()}' in: {proc.stderr!r}")
    shutil.rmtree(out.parent, ignore_errors=True)
print(f"{len(files)} bad-input files checked")
if failures:
    print("\n".join(failures))
    sys.exit(1)
