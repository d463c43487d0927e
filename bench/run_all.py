"""Run every benchmark in bench/ and collect the results: ``make bench``.

    python bench/run_all.py [--only eager,interp] [--quick] [--threads 1] [--timeout S]

Each script runs in its own process (thread pools, allocator state and JIT caches do not leak
from one to the next). A script exposing ``run(harness) -> list[rows]`` contributes rows to
the combined table; one exposing only ``main()`` runs as it does from the command line and its
printed report is kept. The environment record, the rows and the reports are written to
``bench/results/latest.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import (RESULTS, environment, print_env, print_table, set_threads,  # noqa: E402
                    stream_bandwidth, write_json)

ORDER = ["eager", "frontend", "interp", "fusion", "scalar", "memory", "train", "mlp", "coldstart"]
NOT_BENCHES = {"common", "run_all"}

_DRIVER = r"""
import contextlib, importlib.util, inspect, io, json, sys, traceback
path, out_path, quick, rounds, threads = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, __import__("os").path.dirname(path))
sys.argv = [path]
result = {"rows": [], "env": {}, "report": "", "error": None, "mode": None}
buf = io.StringIO()
try:
    from common import Harness, set_threads
    spec = importlib.util.spec_from_file_location("bench_" + path.rsplit("/", 1)[-1][:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    run = getattr(mod, "run", None)
    takes_harness = False
    if callable(run):
        params = list(inspect.signature(run).parameters.values())
        takes_harness = len(params) >= 1 and params[0].name in ("h", "harness") and all(
            p.default is not inspect.Parameter.empty for p in params[1:])
    if takes_harness:
        result["mode"] = "run(harness)"
        h = Harness(rounds=rounds, quick=quick)
        h.threads = threads
        h.args = None
        set_threads(threads)
        with contextlib.redirect_stdout(buf):
            result["rows"] = list(run(h))
        result["env"] = h.env
    elif callable(getattr(mod, "main", None)):
        result["mode"] = "main()"
        with contextlib.redirect_stdout(buf):
            mod.main()
    else:
        result["error"] = "no run(harness) or main()"
except SystemExit as e:
    if e.code not in (None, 0):
        result["error"] = f"exited with {e.code}"
except BaseException:
    result["error"] = traceback.format_exc()
result["report"] = buf.getvalue()
with open(out_path, "w") as f:
    json.dump(result, f, default=str)
"""


def discover(only=None) -> list:
    names = [f[:-3] for f in os.listdir(HERE)
             if f.endswith(".py") and not f.startswith("_") and f[:-3] not in NOT_BENCHES]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    if only:
        wanted = [s.strip() for s in only.split(",") if s.strip()]
        names = [n for n in names if n in wanted]
    return names


def run_one(name: str, args) -> dict:
    path = os.path.join(HERE, name + ".py")
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as tmp:
        out_path = tmp.name
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _DRIVER, path, out_path, "1" if args.quick else "0",
             str(args.rounds), str(args.threads)],
            capture_output=True, text=True, timeout=args.timeout, cwd=os.path.dirname(HERE))
        try:
            with open(out_path) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = {"rows": [], "env": {}, "report": proc.stdout,
                      "error": f"exit status {proc.returncode}: {proc.stderr[-2000:]}"}
        if proc.returncode != 0 and not result.get("error"):
            result["error"] = f"exit status {proc.returncode}: {proc.stderr[-2000:]}"
    except subprocess.TimeoutExpired:
        result = {"rows": [], "env": {}, "report": "", "error": f"timed out after {args.timeout} s"}
    finally:
        try:
            os.unlink(out_path)
        except OSError:
            pass
    result["seconds"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated bench names (eager, interp, ...)")
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for every pool in scripts that use the harness; default 1")
    ap.add_argument("--timeout", type=float, default=1200, help="seconds per script")
    ap.add_argument("--out", default=os.path.join(RESULTS, "latest.json"))
    args = ap.parse_args(argv)

    set_threads(args.threads)
    env = environment()
    env["stream_gbs"] = stream_bandwidth()
    env["bench_threads"] = args.threads
    print_env(env)
    results = {}
    rows = []
    failed = []
    for name in discover(args.only):
        print(f"\n### bench/{name}.py", flush=True)
        res = run_one(name, args)
        results[name] = res
        if res.get("rows"):
            groups: dict = {}
            for r in res["rows"]:
                groups.setdefault(r.get("group") or r["bench"], []).append(r)
            for title, group in groups.items():
                print_table(group, title)
            rows.extend(res["rows"])
            if res.get("report", "").strip():
                print(res["report"].rstrip())
        elif res.get("report"):
            print(res["report"].rstrip())
        if res.get("error"):
            failed.append(name)
            print(f"!! bench/{name}.py failed: {res['error'].strip().splitlines()[-1]}")
        print(f"({res['seconds']:.0f} s, {res.get('mode') or 'not run'})", flush=True)

    if rows:
        print("\n### summary: medians and ratios of every bench that reports rows")
        print_table(rows)
    payload = {"environment": env, "rows": rows,
               "scripts": {n: {k: v for k, v in r.items() if k != "rows"}
                           for n, r in results.items()}}
    write_json(args.out, payload)
    print(f"\nwrote {os.path.relpath(args.out)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
