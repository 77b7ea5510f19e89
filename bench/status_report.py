#!/usr/bin/env python3
"""The report of bench/status.sh: the W1 runs (RESULTS.jsonl from measure.py) and the CPU per
refresh (COSTS.jsonl from status_cost.py), as Markdown.

usage: status_report.py RESULTS.jsonl COSTS.jsonl LINES
"""
import json
import statistics
import sys

results, costs, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = {}
for line in open(results):
    if line.strip():
        r = json.loads(line)
        runs.setdefault(r["name"], []).append(r)

names = ("w1", "w1-server", "w1-page")
good = {}
for name in names:
    rs = runs.get(name, [])
    good[name] = [r for r in rs if r["exit"] == 0 and not r["timed_out"] and r["out_lines"] == lines]
    if len(good[name]) != len(rs):
        print(f"**FAIL** {name}: {len(rs) - len(good[name])} of {len(rs)} runs did not write {lines} lines\n")

rate = lambda r: lines / r["wall_s"]
print("| variant | runs | events/s (median) | min – max | wall s (median) | CPU s (median) | min – max | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for name in names:
    ok = good[name]
    if not ok:
        print(f"| {name} | 0 | FAILED | | | | | |")
        continue
    rates = [rate(r) for r in ok]
    cpus = [r["cpu_s"] for r in ok]
    print(f"| {name} | {len(ok)} | {statistics.median(rates):,.0f} | {min(rates):,.0f} – {max(rates):,.0f} | "
          f"{statistics.median(r['wall_s'] for r in ok):.2f} | {statistics.median(cpus):.2f} | "
          f"{min(cpus):.2f} – {max(cpus):.2f} | {max(r['peak_rss_MiB'] for r in ok):.1f} |")
print()


def ratios(a, b):
    """b against a: by the medians, and the median of the repetitions' pairs (same index = same repetition)."""
    if not good[a] or not good[b]:
        return None
    by_median = statistics.median(map(rate, good[b])) / statistics.median(map(rate, good[a]))
    pairs = [rate(y) / rate(x) for x, y in zip(runs[a], runs[b]) if x in good[a] and y in good[b]]
    cpu = statistics.median(r["cpu_s"] for r in good[b]) / statistics.median(r["cpu_s"] for r in good[a])
    return by_median, pairs, cpu


for a, b, what in (("w1-server", "w1-page", "page polled against not polled (both with the server)"),
                   ("w1", "w1-page", "page polled against no server at all"),
                   ("w1", "w1-server", "server without a client against no server")):
    r = ratios(a, b)
    if r is None:
        print(f"- {what}: n/a")
        continue
    by_median, pairs, cpu = r
    print(f"- {b} / {a} ({what}): events/s **{100 * by_median:.1f}%** by the medians; per repetition "
          f"{', '.join(f'{100 * p:.1f}%' for p in pairs)} (median {100 * statistics.median(pairs):.1f}%); "
          f"CPU s {100 * cpu:.1f}%")
print()

w1 = good["w1"]
w1_cpu_per_s = statistics.median(r["cpu_s"] / r["wall_s"] for r in w1) if w1 else None
print("| status of | page bytes | status bytes | driftwood idle CPU | CPU per GET /api/v1/status | CPU per reload (/ + status) | "
      "share of W1's CPU at one reload a second |")
print("|---|---|---|---|---|---|---|")
for line in open(costs):
    if not line.strip():
        continue
    c = json.loads(line)
    share = f"{100 * c['reload_cpu_ms'] / 1000 / w1_cpu_per_s:.3f}%" if w1_cpu_per_s else "n/a"
    print(f"| {c['pipeline']} | {c['page_bytes']:,} | {c['status_bytes']:,} | {c['idle_cpu_percent']:.2f}% of a core | "
          f"{c['status_cpu_ms']:.3f} ms | {c['reload_cpu_ms']:.3f} ms | {share} |")
if w1_cpu_per_s:
    print(f"\nW1 keeps {w1_cpu_per_s:.2f} cores busy (CPU s / wall s, median of the w1 runs); a reload a second takes "
          "the CPU in the last column from it.")
