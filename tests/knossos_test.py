#!/usr/bin/python3
"""`faultline check` end to end.

knossos_test.py knossos FAULTLINE DATA_DIR
    Every history of the Knossos reference set (DATA_DIR = tests/data/knossos, a copy of shared/data/knossos) must get the
    verdict its folder has in DATA_DIR/README.md's table (model, initial state and expected verdict
    per folder), and the counterexample op of the histories listed under "Known details" must be
    the one named there. The README's `index` is Jepsen's: the position of the op map in the file
    (nemesis ops included) of the op's *completion*; `faultline check --json` reports an op by its
    invocation (`index`, `line`), so this script finds both in the file independently of faultline's
    reader.

knossos_test.py bad FAULTLINE HISTORIES_DIR
    Every fixture of HISTORIES_DIR/bad/ (listed in bad/expect.json) exits 2 with
    `file:line:col: error: message`; usage errors exit 2; the good fixtures get their verdicts.
"""
import concurrent.futures
import json
import os
import pathlib
import re
import subprocess
import sys

failures = []


def run(faultline, *args, timeout=120):
    try:
        return subprocess.run([faultline, "check", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def edn_initial_to_json(text):
    """The README's initial states: `0`, `{:x 0 :y 0}`."""
    text = text.strip().strip("`")
    if text.startswith("{"):
        pairs = re.findall(r":([\w-]+)\s+([^\s,}]+)", text)
        return json.dumps({k: json.loads(v) for k, v in pairs}, separators=(",", ":"))
    return json.dumps(json.loads(text))


def readme_table(readme):
    rows = []
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not re.fullmatch(r"[\w-]+/[\w-]+", cells[0]):
            continue
        folder, model, initial, verdict, count = cells
        model = model.split()[0]
        expected = "not linearizable" if verdict.lower().startswith("not") else "linearizable"
        rows.append((folder, model, edn_initial_to_json(initial), expected, int(count)))
    return rows


def op_maps(text):
    """(index, line, text) of every op map of an EDN history: top-level maps, or maps directly
    inside the top-level vector/list."""
    ops, stack, i, line = [], [], 0, 1
    start = None
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
        elif c == ";":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
        elif c in "[({":
            if c == "{" and len(stack) <= 1 and all(s in "[(" for s in stack):
                start = (i, line)
            stack.append(c)
        elif c in "])}":
            stack.pop()
            if c == "}" and start is not None and len(stack) <= 1:
                ops.append((len(ops), start[1], text[start[0]:i + 1]))
                start = None
        i += 1
    return ops


def field(op_text, key):
    m = re.search(r":" + key + r"\s+([^\s,}]+)", op_text)
    return m.group(1) if m else None


def known_counterexamples(readme):
    """[(file, process, f, value, completion index)] from README's "Known details" bullets."""
    out = []
    for bullet in re.split(r"\n- ", readme):
        bullet = " ".join(bullet.split())
        m = re.match(r"(\S+\.edn): .*?process (\d+)'s `:ok :(\w+) ([^`]+)`.*?index (\d+)", bullet)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(3), json.loads(m.group(4)), int(m.group(5))))
    return out


def knossos(faultline, data_dir):
    data = pathlib.Path(data_dir)
    if not (data / "README.md").is_file():
        sys.exit(f"{data}/README.md not found: the Knossos reference histories must be next to the repository")
    readme = (data / "README.md").read_text()
    rows = readme_table(readme)
    if not rows:
        sys.exit("no folder table found in README.md")
    jobs = []
    for folder, model, initial, expected, count in rows:
        files = sorted((data / folder).glob("*.edn"))
        if len(files) != count:
            failures.append(f"{folder}: {len(files)} files, README says {count}")
        jobs += [(f, model, initial, expected) for f in files]

    def one(job):
        path, model, initial, expected = job
        proc = run(faultline, str(path), "--model", model, "--initial", initial, "--json")
        return job, proc

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        for (path, model, initial, expected), proc in pool.map(one, jobs):
            rel = path.relative_to(data)
            if proc is None:
                failures.append(f"{rel}: timed out")
                continue
            want_code = 0 if expected == "linearizable" else 1
            try:
                out = json.loads(proc.stdout)
            except json.JSONDecodeError:
                failures.append(f"{rel}: exit {proc.returncode}, no JSON output; stderr: {proc.stderr.strip()}")
                continue
            if proc.returncode != want_code or out.get("verdict") != expected:
                failures.append(f"{rel}: expected {expected} (exit {want_code}), got {out.get('verdict')!r} "
                                f"(exit {proc.returncode}); reason: {out.get('reason')}")
            results[str(rel)] = out
    print(f"{len(jobs)} Knossos histories checked")

    known = known_counterexamples(readme)
    if len(known) < 3:
        failures.append(f"expected 3 known counterexamples in README.md, found {len(known)}")
    for rel, process, f, value, completion_index in known:
        ops = op_maps((data / rel).read_text())
        if completion_index >= len(ops):
            failures.append(f"{rel}: README index {completion_index} is past the {len(ops)} ops of the file")
            continue
        _, completion_line, completion = ops[completion_index]
        if (field(completion, "process") != str(process) or field(completion, "type") != ":ok"
                or field(completion, "f") != ":" + f or json.loads(field(completion, "value")) != value):
            failures.append(f"{rel}: op {completion_index} of the file is {completion}, not README's")
            continue
        invocation = next(((i, line) for i, line, t in reversed(ops[:completion_index])
                           if field(t, "process") == str(process) and field(t, "type") == ":invoke"), None)
        want = {"process": process, "f": f, "output": value, "index": invocation[0], "line": invocation[1]}
        got = (results.get(rel) or {}).get("explanation", {}).get("op")
        if got is None:
            failures.append(f"{rel}: no explanation.op in the --json output")
            continue
        diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
        if "complete_index" in got and got["complete_index"] != completion_index:
            diff["complete_index"] = (got["complete_index"], completion_index)
        if diff:
            failures.append(
                f"{rel}: counterexample differs from README (process {process}'s :ok :{f} {value} completed at "
                f"index {completion_index}, line {completion_line}; invoked at index {invocation[0]}, line "
                f"{invocation[1]}): " + ", ".join(f"{k}: got {g!r}, want {w!r}" for k, (g, w) in diff.items())
                + f"\n  explanation.op = {json.dumps(got)}")
        else:
            print(f"{rel}: counterexample is process {process}'s {f} of {value} (invoked at index "
                  f"{invocation[0]}, line {invocation[1]}; completed at index {completion_index}) as README says")


def bad(faultline, histories_dir):
    histories = pathlib.Path(histories_dir)
    bad_dir = histories / "bad"
    manifest = json.loads((bad_dir / "expect.json").read_text())
    manifest.pop("_comment", None)
    fixtures = {p.name for p in bad_dir.iterdir() if p.name != "expect.json"}
    for name in sorted(fixtures - set(manifest)):
        failures.append(f"bad/{name}: not listed in bad/expect.json")
    for name, want in sorted(manifest.items()):
        path = bad_dir / name
        proc = run(faultline, str(path), "--model", want["model"])
        if proc is None:
            failures.append(f"bad/{name}: timed out")
            continue
        where = f"{path}:{want['at']}: error: "
        if proc.returncode != 2:
            failures.append(f"bad/{name}: exited {proc.returncode}, expected 2\n{proc.stderr}")
        elif where not in proc.stderr or want["message"] not in proc.stderr:
            failures.append(f"bad/{name}: expected '{where}...{want['message']}' in: {proc.stderr!r}")
    print(f"{len(manifest)} malformed histories checked")

    good = histories / "kv.jsonl"
    usage = [
        (["--model", "kv", str(histories / "missing.jsonl")], f"{histories / 'missing.jsonl'}:1:1: error: cannot read file"),
        ([str(good), "--model", "kvv"], "unknown model 'kvv' (did you mean 'kv'? models: register, cas-register, kv, multi-register)"),
        ([str(good)], "--model"),
        ([str(good), "--model", "register", "--initial", "{x: 0}"], "--initial: '{x: 0}' is not a JSON value"),
        ([str(good), "--model", "multi-register", "--initial", "3"], "--initial: the multi-register model"),
        ([str(good), "--model", "kv", "--timeout", "60"], "(did you mean '60s'?)"),
        ([str(good), "--model", "kv", "--timeout", "0s"], "--timeout: must be positive"),
        ([str(histories)], "--model"),
        ([str(histories), "--model", "kv"], "cannot read file"),
    ]
    for args, fragment in usage:
        proc = run(faultline, *args)
        if proc is None or proc.returncode != 2 or fragment not in proc.stderr:
            failures.append(f"check {' '.join(args)}: expected exit 2 and {fragment!r}, got "
                            f"{proc and proc.returncode}: {proc and proc.stderr!r}")

    verdicts = [
        ("kv.jsonl", ["--model", "kv"], 0, "linearizable"),
        ("kv-stale-read.jsonl", ["--model", "kv"], 1, "not linearizable"),
        ("register-one-per-line.edn", ["--model", "cas-register"], 0, "linearizable"),
        ("register-one-per-line.edn", ["--model", "cas-register", "--initial", "5"], 0, "linearizable"),
        ("multi-register.jsonl", ["--model", "multi-register", "--initial", '{"x": 0, "y": 0}'], 0, "linearizable"),
        ("empty.jsonl", ["--model", "register"], 0, "linearizable"),
    ]
    for name, args, code, verdict in verdicts:
        proc = run(faultline, str(histories / name), *args, "--json")
        try:
            out = json.loads(proc.stdout) if proc else {}
        except json.JSONDecodeError:
            out = {}
        if proc is None or proc.returncode != code or out.get("verdict") != verdict:
            failures.append(f"{name} {' '.join(args)}: expected {verdict} (exit {code}), got "
                            f"{out.get('verdict')!r} (exit {proc and proc.returncode}) {proc and proc.stderr!r}")
        text = run(faultline, str(histories / name), *args)
        shown = ": NOT linearizable (" if code == 1 else ": linearizable ("
        if text is None or text.returncode != code or shown not in text.stdout:
            failures.append(f"{name}: text output: {text and text.stdout!r}")
    stale = run(faultline, str(histories / "kv-stale-read.jsonl"), "--model", "kv", "--json")
    op = json.loads(stale.stdout).get("explanation", {}).get("op", {})
    if (op.get("process"), op.get("key"), op.get("output"), op.get("line")) != (2, "k1", "a", 5):
        failures.append(f"kv-stale-read.jsonl: expected process 2's get of 'a' on k1 (line 5), got {op}")
    print(f"{len(usage)} usage errors and {len(verdicts)} good histories checked")


if __name__ == "__main__":
    mode, faultline, directory = sys.argv[1:4]
    {"knossos": knossos, "bad": bad}[mode](faultline, directory)
    if failures:
        print("\n".join(failures))
        sys.exit(1)
