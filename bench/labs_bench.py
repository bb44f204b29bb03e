#!/usr/bin/python3
"""Wall time of the 6.824 lab pack (scenarios/raft/labs/), per scenario and in total, one run
after another. Each run must pass (exit 0). CPU time (user + system of the faultline process)
is printed beside the wall time: on a busy machine the wall time also counts waiting for a core.
Usage: bench/labs_bench.py [build/faultline] [repeats]. Target: under 5 s total."""
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(__file__).resolve().parent.parent
faultline = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "faultline")
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
tmp = pathlib.Path(tempfile.mkdtemp())


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


total_wall = total_cpu = 0.0
failed = []
print(f"6.824 lab pack (scenarios/raft/labs), median of {repeats} run(s) each")
print(f"  {'scenario':<34} {'wall':>7} {'cpu':>7}")
for scenario in sorted((root / "scenarios" / "raft" / "labs").glob("*.yaml")):
    walls, cpus = [], []
    for _ in range(repeats):
        cpu0, t0 = children_cpu_s(), time.perf_counter()
        proc = subprocess.run([faultline, "run", str(scenario), "--out", str(tmp / scenario.stem),
                               "--force", "--quiet"], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(children_cpu_s() - cpu0)
        if proc.returncode != 0 or proc.stderr.strip():
            failed.append(f"{scenario.name}: exit {proc.returncode} {proc.stderr.strip()[-200:]}")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    total_wall += wall
    total_cpu += cpu
    print(f"  {scenario.name:<34} {wall:6.2f}s {cpu:6.2f}s")
print(f"  {'total':<34} {total_wall:6.2f}s {total_cpu:6.2f}s (target: wall < 5 s)")
for f in failed:
    print(f"  FAILED {f}")
sys.exit(1 if failed else 0)
