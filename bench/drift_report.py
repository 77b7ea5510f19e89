#!/usr/bin/env python3
"""The report of bench/drift.sh (stdlib only).

  drift_report.py RESULTS.jsonl --lines N --driftwood-baseline A.json --python-baseline B.json

Prints a Markdown table of the timed commands (medians over repetitions), the events/s of
w1-drift as a share of w1 (target >= 90%), the same with both writing to /dev/null (no page
cache to fill, docs/benchmarks.md), the same share for the w1-member control (the cost
of writing a member as long as `drift` on its own), driftwood baseline's speed-up over the Python
reference (target >= 4x), and whether both baselines hold the same edges and proportions.
Exit status 1 if a run failed, lost or duplicated lines, or the baselines disagree.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import core_link_report  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--driftwood-baseline", required=True)
    ap.add_argument("--python-baseline", required=True)
    a = ap.parse_args()
    runs = {}
    with open(a.results) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs.setdefault(r["name"], []).append(r)
    ok = True
    wall = {}
    print("| command | runs ok | wall s (median) | events/s | CPU s user+sys | user / sys s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in runs.items():
        def good(r):
            if r["exit"] != 0 or r["timed_out"]:
                return False
            # w1-drift also writes its score and model-health reports and alerts (~0.2%).
            if name.startswith("w1-drift"):
                return a.lines <= r["out_lines"] <= a.lines * 1.01
            return name.startswith("baseline") or r["out_lines"] == a.lines
        g = [r for r in rs if good(r)]
        if len(g) < len(rs):
            ok = False
            print("| %s | %d/%d | FAILED | | | | |" % (name, len(g), len(rs)))
            if not g:
                continue
        w = statistics.median(r["wall_s"] for r in g)
        wall[name] = w
        print("| %s | %d/%d | %.2f | %s | %.2f | %.2f / %.2f | %.1f |" % (
            name, len(g), len(rs), w, "{:,}".format(round(a.lines / w)),
            statistics.median(r["cpu_s"] for r in g), statistics.median(r["user_s"] for r in g),
            statistics.median(r["sys_s"] for r in g), max(r["peak_rss_MiB"] for r in g)))
    print()
    if "w1" in wall and "w1-drift" in wall:
        share = wall["w1"] / wall["w1-drift"]
        print("- w1-drift / w1, events/s: **%.0f%%** (target 90%%)" % (100 * share))
        cpu = {n: statistics.median(r["cpu_s"] for r in runs[n]) for n in ("w1", "w1-drift")}
        print("- CPU seconds per million events: w1 %.2f, w1-drift %.2f (+%.2f µs/event for drift + monitor)" % (
            cpu["w1"] * 1e6 / a.lines, cpu["w1-drift"] * 1e6 / a.lines,
            (cpu["w1-drift"] - cpu["w1"]) * 1e6 / a.lines))
    all_runs = [r for rs in runs.values() for r in rs]
    print(core_link_report.summary(all_runs))
    fast = core_link_report.fast_ratio(all_runs, "w1", "w1-drift")
    if fast:
        print("- w1-drift / w1 over the runs in the fast state only: **%.0f%%** (%d and %d runs)" % (100 * fast[0], fast[1], fast[2]))
    if "w1-null" in wall and "w1-drift-null" in wall:
        print("- the same with the output to /dev/null (no page cache to fill; what drift and monitor cost): "
              "**%.0f%%**" % (100 * wall["w1-null"] / wall["w1-drift-null"]))
        fast = core_link_report.fast_ratio(all_runs, "w1-null", "w1-drift-null")
        if fast:
            print("- w1-drift-null / w1-null over the runs in the fast state only: **%.0f%%** (%d and %d runs)" % (
                100 * fast[0], fast[1], fast[2]))
    if "w1" in wall and "w1-member" in wall:
        print("- control: w1 plus a constant member as long as `drift` (no drift or monitor work), "
              "events/s: **%.0f%%** of w1" % (100 * wall["w1"] / wall["w1-member"]))
    if "baseline-driftwood" in wall and "baseline-python" in wall:
        print("- driftwood baseline / python3 + numpy, speed: **%.1f×** (target 4×)" % (
            wall["baseline-python"] / wall["baseline-driftwood"]))
    try:
        dw = json.load(open(a.driftwood_baseline))["features"]
        py = json.load(open(a.python_baseline))["features"]
        same = all(
            dw[k].get("edges") == py[k].get("edges") and dw[k]["probabilities"] == py[k]["probabilities"]
            for k in py)
        print("- baselines agree (edges and proportions, every feature): %s" % ("yes" if same else "**NO**"))
        ok = ok and same
    except (OSError, ValueError, KeyError) as e:
        print("- baselines could not be compared: %s" % e)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
