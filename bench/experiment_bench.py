#!/usr/bin/python3
"""Wall time of the paper experiments (scenarios/papers/*.yaml that name a `base:`), each run
once through `faultline experiment --jobs N` (default 2). CPU time (user + system of faultline
and its trial workers) is printed beside the wall time: on a busy machine the wall time also
counts waiting for a core. Exit status 0 or 1 of the experiment (a reference row may miss) is
expected; 2 or a crash is an error.
Usage: bench/experiment_bench.py [build/faultline] [jobs] [experiment names...]
Target (issue 4): Figure 16 top (5,100 trials) and bottom (5,000 trials) under 10 s each."""
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(__file__).resolve().parent.parent
faultline = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "faultline")
jobs = sys.argv[2] if len(sys.argv) > 2 else "2"
names = sys.argv[3:] or ["raft-figure-16-top", "raft-figure-16-bottom", "raft-thesis-election-experiment"]
targets = {"raft-figure-16-top": 10.0, "raft-figure-16-bottom": 10.0}
tmp = pathlib.Path(tempfile.mkdtemp())


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


print(f"paper experiments, --jobs {jobs}")
print(f"  {'experiment':<34} {'trials':>7} {'wall':>8} {'cpu':>8} {'ms/trial':>9} {'target':>8} {'ratio':>6}")
status = 0
for name in names:
    path = root / "scenarios" / "papers" / f"{name}.yaml"
    cpu0, t0 = children_cpu_s(), time.perf_counter()
    proc = subprocess.run([faultline, "experiment", str(path), "--jobs", jobs, "--out", str(tmp / name), "--force"],
                          capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - cpu0
    if proc.returncode not in (0, 1):
        print(proc.stdout, proc.stderr)
        status = 1
        continue
    trials = sum(1 for _ in open(tmp / name / "results.csv")) - 1
    target = targets.get(name)
    print(f"  {name:<34} {trials:>7} {wall:>7.1f}s {cpu:>7.1f}s {1000 * wall / trials:>9.2f} "
          f"{(f'{target:.0f}s' if target else '-'):>8} {(f'{wall / target:.1f}' if target else '-'):>6}")
sys.exit(status)
