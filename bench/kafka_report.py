#!/usr/bin/env python3
"""The report of bench/kafka.sh (stdlib only).

  kafka_report.py RESULTS.jsonl CLUSTER.jsonl --lines N

RESULTS: measure.py's runs; CLUSTER: per run, the mock cluster's CPU seconds during it and, for
the agent, the records acknowledged into its topic (or, for a run left out, why). A run counts when it exited 0 within the time-out
and delivered exactly N events (the agent: N records in the topic). Prints a Markdown table
(medians over the runs that count), what Kafka adds on each side, and a FAIL line per run that
does not count. Exit status 1 if a run failed or a pipeline has no run that counts.
"""
import argparse
import json
import statistics
import sys

ORDER = ["w1", "w1-file", "agent", "stdin-drift", "aggregator"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("cluster")
    ap.add_argument("--lines", type=int, required=True)
    a = ap.parse_args()
    runs, cluster = {}, {}
    for line in open(a.results):
        if line.strip():
            r = json.loads(line)
            runs.setdefault(r["name"], []).append(r)
    fails = []
    for line in open(a.cluster):
        if line.strip():
            c = json.loads(line)
            if c.get("skipped"):
                fails.append("%s (repetition %d): not run, its topic held %d records from offset 0" % (
                    c["name"], c["rep"], c["topic_records"]))
            else:
                cluster.setdefault(c["name"], []).append(c)

    good = {}
    for name in ORDER:
        for i, r in enumerate(runs.get(name, [])):
            cs = cluster.get(name, [])
            c = cs[i] if i < len(cs) else {}
            r["cluster_cpu_s"] = c.get("cluster_cpu_s", 0.0)
            delivered = c.get("topic_records") if name == "agent" else r["out_lines"]
            why = None
            if r["timed_out"]:
                why = "killed after the timeout"
            elif r["exit"] != 0:
                why = "exit status %s" % r["exit"]
            elif delivered != a.lines:
                why = "delivered %s events, expected %d" % (delivered, a.lines)
            if why:
                fails.append("%s (repetition %d): %s" % (name, i + 1, why))
            else:
                good.setdefault(name, []).append(r)

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    n = a.lines
    print("| pipeline | runs ok | wall s | events/s in = out | CPU s (user / sys) | CPU µs/event | "
          "peak RSS MiB | mock cluster CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    eps, cpu = {}, {}
    for name in ORDER:
        rs = good.get(name, [])
        total = len(runs.get(name, []))
        if not rs:
            print("| %s | 0/%d | FAILED | | | | | |" % (name, total))
            continue
        wall = med(rs, "wall_s")
        eps[name], cpu[name] = n / wall, med(rs, "cpu_s")
        print("| %s | %d/%d | %.2f | %s | %.2f (%.2f / %.2f) | %.2f | %.1f | %.2f |" % (
            name, len(rs), total, wall, "{:,}".format(round(eps[name])), cpu[name], med(rs, "user_s"),
            med(rs, "sys_s"), cpu[name] * 1e6 / n, max(r["peak_rss_MiB"] for r in rs), med(rs, "cluster_cpu_s")))
    print()
    if "aggregator" in good:
        rs = good["aggregator"]
        joined = statistics.median(r["wall_s"] - (r.get("first_line_s") or 0) for r in rs)
        print("- aggregator from its first event out to its exit (the group join left out): %.2f s, **%s events/s**"
              % (joined, "{:,}".format(round(n / joined))))

    def compare(me, base, what):
        if me in eps and base in eps:
            print("- %s / %s, events/s: **%.3g×**; CPU per event %+.2f µs (%s)" % (
                me, base, eps[me] / eps[base], (cpu[me] - cpu[base]) * 1e6 / n, what))

    compare("agent", "w1", "the file input and the kafka output in place of stdin and jsonl")
    compare("agent", "w1-file", "the kafka output in place of jsonl")
    compare("aggregator", "w1", "against the shared W1")
    compare("aggregator", "stdin-drift", "the kafka input in place of stdin")
    for f in fails:
        print("\n**FAIL** %s" % f)
    missing = [name for name in ORDER if name not in good]
    for name in missing:
        print("\n**FAIL** %s has no run that counts" % name)
    return 1 if fails or missing else 0


if __name__ == "__main__":
    sys.exit(main())
