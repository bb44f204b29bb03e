#!/usr/bin/python3
"""Benchmark (b): wall time of the Raft scenario library, per scenario and in total.
Usage: bench/raft_library_bench.py [build/faultline] [repeats]. Target (issue 2): under 5 s total."""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(__file__).resolve().parent.parent
faultline = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "faultline")
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tmp = pathlib.Path(tempfile.mkdtemp())
total = 0.0
print(f"raft scenario library, median wall time of {repeats} runs each")
for scenario in sorted((root / "scenarios" / "raft").glob("*.yaml")):
    walls = []
    for r in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([faultline, "run", str(scenario), "--out", str(tmp / scenario.stem), "--force", "--quiet"],
                       check=False)
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    total += wall
    print(f"  {scenario.name:<28} {wall:6.2f} s")
print(f"  {'total':<28} {total:6.2f} s (target < 5 s)")
