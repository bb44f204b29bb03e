#!/usr/bin/env python3
"""Draws timeline.png for one `faultline run` output directory: the latency of every client
operation against the time it was invoked, with fault periods shaded and leader changes marked.

Usage: python3 plot_timeline.py RUN_DIR [--out FILE] [--quiet]

`faultline run --plots` runs it; it also works on its own, on any run directory. It reads
history.jsonl (operations), report.json (scenario, faults, leaders, simulated duration) and
events.jsonl (partition sides; leaders when report.json has none).

Operations: x = invocation time (s), y = latency (ms): ok as dots, fail as triangles, info
(outcome unknown) as crosses at the time the client gave up; an operation still open at the end
of the run is an info cross at the run's end. The y axis is logarithmic when latencies span more
than a factor of 10.

Fault periods (report.json `faults`, in the order they fired):
  crash      until a restart naming the node (a `restart` fault, the crash's `for:` undo, the
             nemesis), or the end of the nemesis for the nemesis' own crashes
  partition, isolate, cut
             until heals have removed all of its blocks (`heal: all`, its `for:` undo, heals of
             enough nodes); a nemesis partition also ends at the next nemesis partition, which
             replaces it, and at the end of the nemesis
  slow       until its `for:` undo (`restore`)
  network    until the next `network` fault (`network: reliable` itself is not shaded)
Anything not ended by then lasts until the end of the run. `elect` and `heartbeat` are dotted
lines. Leaders (report.json `leaders`): a dashed line labelled with the node and its term.

Exit status: 0 drawn, 2 bad input (missing or malformed files), 3 matplotlib not available.
"""
import argparse
import json
import pathlib
import sys

KIND_COLOURS = {"crash": "tab:red", "partition": "tab:orange", "isolate": "tab:orange",
                "cut": "tab:orange", "slow": "tab:purple", "network": "tab:blue"}
LEGEND_NAMES = {"crash": "crashed", "partition": "partitioned / isolated / cut", "slow": "slowed",
                "network": "network faults"}
MAX_LABELS = 24


def fail(message, code=2):
    print(f"plot_timeline.py: {message}", file=sys.stderr)
    sys.exit(code)


def read_jsonl(path, keep=None):
    """The objects of a JSON-lines file; `keep` filters raw lines before parsing (events.jsonl
    can be large and only a few kinds are needed)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or (keep and not keep(line)):
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                fail(f"{path}:{number}: not JSON: {e}")
    return out


def operations(history, end_s):
    """(invoke_s, latency_ms, outcome) per operation; pairs by process in file order."""
    open_ops, ops = {}, []
    for h in history:
        if "time" not in h or "process" not in h:
            continue
        if h.get("type") == "invoke":
            open_ops[h["process"]] = h
            continue
        invoke = open_ops.pop(h["process"], None)
        if invoke is not None:
            ops.append((invoke["time"], (h["time"] - invoke["time"]) * 1e3, h.get("type", "info")))
    for invoke in open_ops.values():
        ops.append((invoke["time"], max(0.0, end_s - invoke["time"]) * 1e3, "info"))
    return ops


def names_text(names):
    return ",".join(names) if len(names) <= 6 else f"{','.join(names[:5])},… ({len(names)})"


def fault_periods(faults, groups_by_position, end_s):
    """[(start_s, end_s, kind, label)] and [(time_s, label)] instants, by the rules above."""
    periods, instants = [], []
    open_periods = []  # dicts: start, kind, label, nodes, groups, healed, index, nemesis

    def close(p, t):
        open_periods.remove(p)
        periods.append((p["start"], t, p["kind"], p["label"]))

    def names(f):
        return f.get("target") or []

    for position, f in enumerate(faults):
        t, kind, note = f["time_s"], f["kind"], f.get("note", "")
        target = names(f)
        nemesis = note.startswith("nemesis")
        undo = note.startswith("undo")
        groups = groups_by_position.get(position)
        label = f"{kind} {' | '.join(names_text(g) for g in groups) if groups else names_text(target)}"
        if kind == "crash":
            for node in target:
                open_periods.append({"start": t, "kind": "crash", "label": f"crash {node}",
                                     "nodes": {node}, "nemesis": nemesis})
        elif kind == "restart":
            for p in [p for p in open_periods if p["kind"] == "crash" and p["nodes"] <= set(target)]:
                close(p, t)
        elif kind in ("partition", "isolate", "cut"):
            if nemesis and kind == "partition":
                for p in [p for p in open_periods if p["nemesis"] and p["kind"] == "partition"]:
                    close(p, t)
            if target:
                open_periods.append({"start": t, "kind": kind, "label": label, "nodes": set(target),
                                     "groups": groups, "healed": set(),
                                     "nemesis": nemesis})
        elif kind == "heal":
            for p in [p for p in open_periods if p["kind"] in ("partition", "isolate", "cut")]:
                p["healed"] |= set(target)
                groups = p.get("groups")
                if groups:
                    # A partition's blocks run between its groups: gone once at most one group
                    # still has a node whose blocks were not removed.
                    done = sum(1 for g in groups if not set(g) <= p["healed"]) <= 1
                else:
                    done = p["nodes"] <= p["healed"]
                if done:
                    close(p, t)
        elif kind == "slow":
            if target:
                open_periods.append({"start": t, "kind": "slow", "label": label, "nodes": set(target),
                                     "index": f.get("index"), "nemesis": nemesis})
        elif kind == "restore":
            for p in [p for p in open_periods if p["kind"] == "slow" and p.get("index") == f.get("index")]:
                close(p, t)
        elif kind == "network":
            for p in [p for p in open_periods if p["kind"] == "network"]:
                close(p, t)
            spec = f.get("spec") or {}
            if not undo and spec.get("network") != "reliable" and target:
                open_periods.append({"start": t, "kind": "network", "label": "network",
                                     "nodes": set(target), "nemesis": nemesis})
        elif kind == "nemesis-end":
            for p in [p for p in open_periods if p["nemesis"]]:
                close(p, t)
        elif kind in ("elect", "heartbeat") and target:
            instants.append((t, label))
    for p in list(open_periods):
        close(p, max(end_s, p["start"]))
    periods.sort(key=lambda p: (p[0], p[1]))
    return periods, instants


def main():
    parser = argparse.ArgumentParser(description="Draw timeline.png for a faultline run directory.")
    parser.add_argument("run_dir", help="a `faultline run` output directory")
    parser.add_argument("--out", help="output file (default RUN_DIR/timeline.png)")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args()

    run_dir = pathlib.Path(args.run_dir)
    report_path, history_path, events_path = (run_dir / n for n in ("report.json", "history.jsonl", "events.jsonl"))
    for path in (report_path, history_path):
        if not path.is_file():
            fail(f"{path}: no such file (is {run_dir} a `faultline run` output directory?)")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        fail(f"{report_path}: not JSON: {e}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.patches as mpatches
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError as e:
        fail(f"matplotlib is not available to {sys.executable} ({e}); on Debian: "
             "apt install python3-matplotlib", code=3)

    end_s = float(report.get("sim_time_s") or 0.0)
    ops = operations(read_jsonl(history_path), end_s)
    faults = report.get("faults") or []
    leaders = report.get("leaders")
    groups_by_position = {}
    if events_path.is_file():
        wanted = ('"kind":"fault"', '"kind":"became_leader"')
        events = read_jsonl(events_path, keep=lambda line: any(w in line for w in wanted))
        fault_events = [e for e in events if e.get("kind") == "fault"]
        if len(fault_events) == len(faults):
            groups_by_position = {i: e["groups"] for i, e in enumerate(fault_events) if e.get("groups")}
        if leaders is None:
            leaders = [{"time_s": e["time_s"], "node": e["node"], "term": e.get("term")}
                       for e in events if e.get("kind") == "became_leader"]
    periods, instants = fault_periods(faults, groups_by_position, end_s)

    fig, ax = plt.subplots(figsize=(12, 5.5))
    styles = {"ok": dict(marker=".", s=10, color="tab:green", alpha=0.6, label="ok"),
              "fail": dict(marker="v", s=18, color="tab:red", label="fail"),
              "info": dict(marker="x", s=22, color="black", label="info (outcome unknown)")}
    latencies = [lat for _, lat, _ in ops if lat > 0]
    for outcome, style in styles.items():
        xs = [x for x, _, o in ops if o == outcome]
        ys = [max(y, 1e-3) for _, y, o in ops if o == outcome]
        if xs:
            ax.scatter(xs, ys, zorder=3, linewidths=0.8 if outcome != "ok" else 0, **style)
    if latencies and max(latencies) / min(latencies) > 10:
        ax.set_yscale("log")

    seen_kinds = set()
    label_spans = len(periods) <= MAX_LABELS
    for start, stop, kind, label in periods:
        colour = KIND_COLOURS.get(kind, "tab:gray")
        ax.axvspan(start, stop, color=colour, alpha=0.13, lw=0, zorder=1)
        seen_kinds.add("partition" if kind in ("isolate", "cut") else kind)
        if label_spans:
            ax.text(start, 0.99, f" {label}", transform=ax.get_xaxis_transform(), va="top", ha="left",
                    fontsize=7, color=colour, rotation=90, zorder=4)
    for t, label in instants:
        ax.axvline(t, color="tab:gray", ls=":", lw=0.8, zorder=2)
        ax.text(t, 0.01, f" {label}", transform=ax.get_xaxis_transform(), va="bottom", ha="left",
                fontsize=7, color="tab:gray", rotation=90)
    leaders = leaders or []
    for leader in leaders:
        ax.axvline(leader["time_s"], color="tab:blue", ls="--", lw=0.9, zorder=2)
        if len(leaders) <= MAX_LABELS:
            term = leader.get("term")
            ax.text(leader["time_s"], 0.5, f" {leader['node']}" + (f" (term {term})" if term is not None else ""),
                    transform=ax.get_xaxis_transform(), va="center", ha="left", fontsize=8, color="tab:blue",
                    rotation=90, zorder=4)

    handles, _ = ax.get_legend_handles_labels()
    for kind in ("crash", "partition", "slow", "network"):
        if kind in seen_kinds:
            handles.append(mpatches.Patch(color=KIND_COLOURS[kind], alpha=0.25, label=LEGEND_NAMES[kind]))
    if leaders:
        handles.append(Line2D([], [], color="tab:blue", ls="--", lw=0.9, label=f"new leader ({len(leaders)})"))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85)

    ax.set_xlim(0, max(end_s, max((x for x, _, _ in ops), default=0.0)) or 1.0)
    ax.set_xlabel("simulated time of invocation (s)")
    ax.set_ylabel("latency (ms)")
    counts = {o: sum(1 for _, _, oo in ops if oo == o) for o in styles}
    ax.set_title(f"{report.get('scenario', run_dir.name)} · seed {report.get('seed', '?')} · "
                 f"{counts['ok']} ok, {counts['fail']} fail, {counts['info']} info", fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    if not ops:
        ax.text(0.5, 0.5, "no client operations in this run", transform=ax.transAxes, ha="center",
                va="center", color="tab:gray")
    fig.tight_layout()
    out = pathlib.Path(args.out) if args.out else run_dir / "timeline.png"
    fig.savefig(out, dpi=110)
    if not args.quiet:
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
