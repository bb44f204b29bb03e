#!/usr/bin/python3
"""trace.json against the Chrome trace event format, and against the run's report.json.

As a module: `validate(trace, report=None, messages=None)` returns a list of problems
(scenario_test.py checks every library scenario's trace with it).

As a test:
  trace_check.py trace FAULTLINE SCENARIO OUT [--trace-messages]
      runs the scenario and validates its trace.json (with --trace-messages: message flows
      present and paired; without: none)
  trace_check.py plots FAULTLINE SCENARIO OUT SOURCE_ROOT
      `--plots` writes a PNG timeline.png; reports/plot_timeline.py works on its own on a run
      directory; without a usable python3 the run warns on stderr and keeps its exit code

Format rules checked (the JSON Object Format of the trace event format, as Perfetto reads it):
the top level is an object with a `traceEvents` array; every event has `name` (string), `ph` (a
known phase), `ts` (number), `pid` and `tid` (integers); "X" has `dur` >= 0; instants have scope
g/p/t; async events have `cat` and `id`, and every "b" has its "e"; flow events have `id`; a
`bind_id` comes with flow_in or flow_out and every id has exactly one of each, in time order;
metadata events are process_name/thread_name (args.name a string) or *_sort_index (integer);
every track used has a thread_name and every process a process_name; and complete slices on one
track nest properly once their times are read the way Perfetto reads them (int(ts * 1000) ns).
"""
import json
import os
import pathlib
import subprocess
import sys

PHASES = set("BEXiIbenstfMCPONDR")
SLICE_PHASES = {"X", "B", "E", "i", "I"}
METADATA = {"process_name", "thread_name", "process_sort_index", "thread_sort_index", "process_labels"}


def ns(us):
    """Perfetto's conversion of a JSON timestamp (microseconds, double) to nanoseconds."""
    return int(us * 1000)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(trace, report=None, messages=None):
    problems = []
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["the top level must be an object with a traceEvents array"]
    events = trace["traceEvents"]
    process_names, thread_names, used_tracks, used_pids = {}, {}, set(), set()
    async_open, flows_out, flows_in = {}, {}, {}
    slices = {}  # (pid, tid) -> [(start_ns, end_ns, name)]
    for i, e in enumerate(events):
        where = f"traceEvents[{i}] {json.dumps(e)[:160]}"
        if not isinstance(e, dict):
            problems.append(f"{where}: not an object")
            continue
        if not isinstance(e.get("name"), str):
            problems.append(f"{where}: name missing or not a string")
        ph = e.get("ph")
        if ph not in PHASES:
            problems.append(f"{where}: ph {ph!r} is not a trace event phase")
            continue
        if not is_number(e.get("ts")):
            problems.append(f"{where}: ts missing or not a number")
            continue
        if not is_int(e.get("pid")) or not is_int(e.get("tid")):
            problems.append(f"{where}: pid/tid missing or not integers")
            continue
        track = (e["pid"], e["tid"])
        if ph == "M":
            args = e.get("args")
            if e["name"] not in METADATA or not isinstance(args, dict):
                problems.append(f"{where}: unknown metadata event or args not an object")
            elif e["name"].endswith("_name"):
                if not isinstance(args.get("name"), str) or not args["name"]:
                    problems.append(f"{where}: args.name must be a non-empty string")
                elif e["name"] == "process_name":
                    process_names[e["pid"]] = args["name"]
                else:
                    thread_names[track] = args["name"]
            elif e["name"].endswith("_sort_index") and not is_int(args.get("sort_index")):
                problems.append(f"{where}: args.sort_index must be an integer")
            continue
        used_pids.add(e["pid"])
        if ph in SLICE_PHASES:
            used_tracks.add(track)
        if ph == "X":
            if not is_number(e.get("dur")) or e["dur"] < 0:
                problems.append(f"{where}: X needs dur >= 0")
            else:
                slices.setdefault(track, []).append((ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]), e["name"]))
        if ph in ("i", "I") and e.get("s", "t") not in ("g", "p", "t"):
            problems.append(f"{where}: instant scope must be g, p or t")
        if ph in ("b", "e", "n"):
            if not isinstance(e.get("cat"), str) or e.get("id") in (None, ""):
                problems.append(f"{where}: async events need cat and id")
            key = (e["pid"], e.get("cat"), str(e.get("id")), e["name"])
            if ph == "b":
                async_open.setdefault(key, []).append(e["ts"])
            elif ph == "e":
                if not async_open.get(key):
                    problems.append(f"{where}: async end without a begin")
                elif async_open[key].pop() > e["ts"]:
                    problems.append(f"{where}: async end before its begin")
        if ph in ("s", "t", "f") and e.get("id") in (None, ""):
            problems.append(f"{where}: flow events need an id")
        if "bind_id" in e:
            if e.get("flow_out") is True:
                flows_out.setdefault(str(e["bind_id"]), []).append(e["ts"])
            elif e.get("flow_in") is True:
                flows_in.setdefault(str(e["bind_id"]), []).append(e["ts"])
            else:
                problems.append(f"{where}: bind_id without flow_in or flow_out")
    for key, begins in async_open.items():
        if begins:
            problems.append(f"async {key}: {len(begins)} begin(s) without an end")
    for flow_id in set(flows_out) | set(flows_in):
        outs, ins = flows_out.get(flow_id, []), flows_in.get(flow_id, [])
        if len(outs) != 1 or len(ins) != 1:
            problems.append(f"flow {flow_id}: {len(outs)} flow_out and {len(ins)} flow_in slices, expected 1 and 1")
        elif ins[0] < outs[0]:
            problems.append(f"flow {flow_id}: arrives before it leaves")
    for track in sorted(used_tracks):
        if track not in thread_names:
            problems.append(f"track pid {track[0]} tid {track[1]} has events but no thread_name")
    for pid in sorted(used_pids):
        if pid not in process_names:
            problems.append(f"pid {pid} has events but no process_name")
    for track, items in slices.items():
        # Sorted as a viewer sorts them: by start, the longer first.
        stack = []
        for start, end, name in sorted(items, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                problems.append(f"{thread_names.get(track, track)}: slice {name!r} [{start}, {end}] ns overlaps "
                                f"{stack[-1][2]!r} [{stack[-1][0]}, {stack[-1][1]}] without nesting in it")
                break
            stack.append((start, end, name))
    if problems:
        return problems[:20]
    if report is not None:
        problems += against_report(events, thread_names, report)
    if messages is not None:
        flows = len(flows_out)
        if messages and not flows:
            problems.append("--trace-messages: no message flows in the trace")
        if messages and flows != trace.get("otherData", {}).get("messages"):
            problems.append(f"{flows} flows but otherData.messages is {trace.get('otherData', {}).get('messages')}")
        if not messages and flows:
            problems.append(f"without --trace-messages: {flows} message flows in the trace")
    return problems[:20]


def against_report(events, thread_names, report):
    """The trace tells the same story as report.json: its faults, leaders, crashes and ops."""
    problems = []
    by_name = {}
    for track, name in thread_names.items():
        by_name[name] = track

    def on(track_name, ph, cat=None, lanes=False):
        """Events on the named track (with lanes: also on its extra tracks "c1 (2)", ...)."""
        tracks = {t for n, t in by_name.items() if n == track_name or (lanes and n.startswith(track_name + " ("))}
        return [e for e in events if (e.get("pid"), e.get("tid")) in tracks and e["ph"] == ph
                and (cat is None or e.get("cat") == cat)]

    def near(us, seconds):
        return abs(us - seconds * 1e6) < 0.01

    faults = on("faults", "i")
    if len(faults) != len(report["faults"]):
        problems.append(f"{len(faults)} fault instants, report.json has {len(report['faults'])} faults")
    else:
        for instant, fault in zip(faults, report["faults"]):
            if not near(instant["ts"], fault["time_s"]) or not instant["name"].startswith(fault["kind"]):
                problems.append(f"fault instant {instant['name']!r} at {instant['ts']} us does not match "
                                f"{fault['kind']} at {fault['time_s']} s")
            if instant["args"].get("spec") != fault["spec"]:
                problems.append(f"fault instant {instant['name']!r}: spec differs from report.json")
    for fault in report["faults"]:
        if fault["kind"] != "crash" or not fault["target"]:
            continue
        for node in fault["target"]:
            crashed = [e for e in on(node, "X", "role", lanes=True) if e["name"] == "crashed" and near(e["ts"], fault["time_s"])]
            if not crashed:
                problems.append(f"no 'crashed' slice on {node} at {fault['time_s']} s")
    elections = on("elections", "i")
    for leader in report.get("leaders", []):
        if not any(near(e["ts"], leader["time_s"]) and e["args"].get("node") == leader["node"]
                   and e["args"].get("term") == leader["term"] for e in elections):
            problems.append(f"no election instant for {leader['node']} (term {leader['term']}) at {leader['time_s']} s")
    if "ops_ok" in report:
        ops = sum(1 for e in events if e["ph"] == "X" and e.get("cat") == "op")
        want = report["ops_ok"] + report["ops_failed"] + report["ops_info"]
        if ops != want:
            problems.append(f"{ops} operation slices, report.json counts {want} operations")
    servers = [t for t, n in thread_names.items() if t[0] == 2]
    clients = [t for t, n in thread_names.items() if t[0] == 3]
    if not servers:
        problems.append("no server tracks")
    if clients and max(servers) >= min(clients):
        problems.append("server tracks must come before client tracks")
    return problems


def check_png(path, failures):
    if not path.is_file():
        failures.append(f"{path}: missing")
    elif path.stat().st_size < 1000 or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        failures.append(f"{path}: not a PNG image")


def run(faultline, scenario, out, *extra, env=None):
    return subprocess.run([faultline, "run", scenario, "--out", str(out), "--force", "--quiet", *extra],
                          capture_output=True, text=True, env=env)


def main():
    mode, faultline, scenario, out = sys.argv[1:5]
    out = pathlib.Path(out)
    failures = []
    if mode == "trace":
        messages = "--trace-messages" in sys.argv[5:]
        proc = run(faultline, scenario, out, *(["--trace-messages"] if messages else []))
        if proc.returncode != 0 or proc.stderr.strip():
            sys.exit(f"faultline run exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        trace = json.loads((out / "trace.json").read_text())
        report = json.loads((out / "report.json").read_text())
        failures += validate(trace, report, messages)
        print(f"trace.json: {len(trace['traceEvents'])} events, {trace['otherData']['messages']} messages")
    elif mode == "plots":
        root = pathlib.Path(sys.argv[5])
        proc = run(faultline, scenario, out / "with-plots", "--plots")
        if proc.returncode != 0 or proc.stderr.strip():
            failures.append(f"--plots: exit {proc.returncode}, stderr:\n{proc.stderr[-2000:]}")
        check_png(out / "with-plots" / "timeline.png", failures)

        # The script on its own, on a run made without --plots.
        plain = out / "plain"
        proc = run(faultline, scenario, plain)
        if (plain / "timeline.png").exists():
            failures.append("timeline.png written without --plots")
        proc = subprocess.run(["/usr/bin/python3", str(root / "reports" / "plot_timeline.py"), str(plain),
                               "--out", str(plain / "standalone.png")], capture_output=True, text=True)
        if proc.returncode != 0:
            failures.append(f"plot_timeline.py standalone: exit {proc.returncode}\n{proc.stderr[-2000:]}")
        check_png(plain / "standalone.png", failures)
        proc = subprocess.run(["/usr/bin/python3", str(root / "reports" / "plot_timeline.py"), str(out / "nowhere")],
                              capture_output=True, text=True)
        if proc.returncode != 2 or "no such file" not in proc.stderr:
            failures.append(f"plot_timeline.py on a missing directory: exit {proc.returncode}, {proc.stderr!r}")

        # No usable python: a warning, the run's exit code unchanged, no figure.
        env = dict(os.environ, FAULTLINE_PYTHON=str(out / "no-such-python3"))
        proc = run(faultline, scenario, out / "no-python", "--plots", env=env)
        if proc.returncode != 0 or "warning: --plots: timeline.png not drawn" not in proc.stderr:
            failures.append(f"--plots without python: exit {proc.returncode}, stderr {proc.stderr!r}")
        if (out / "no-python" / "timeline.png").exists():
            failures.append("--plots without python: a timeline.png appeared")
        print("timeline.png: ok")
    else:
        sys.exit(f"unknown mode {mode}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
