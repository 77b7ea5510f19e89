#!/usr/bin/env python3
"""Time one W2 run for bench/w2.sh: driftwood ships a file to es_null_sink (stdlib only, Linux).

  w2.py run --name NAME --input FILE --lines N --sink URL --sink-pid PID [--results F.jsonl]
            [--stderr FILE] [--timeout S] -- CMD ...
      Resets the sink, runs CMD with stdin from --input (through measure.py's launcher, so CPU
      and peak RSS are the command's own rusage), then reads the sink's counters. Wall time is
      from spawn to exit: driftwood exits once stdin is read and every event is acknowledged,
      so the wall time covers delivery. Also records the sink's CPU seconds for the run (the
      sink must never be the bottleneck) and its counters: documents, requests, bytes received
      (compressed) and inflated, and how many documents carried the --check string.

  w2.py table RESULTS.jsonl --lines N
      Markdown table (medians over repetitions) and the per-event figures.
"""
import argparse
import http.client
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import spawn_and_wait  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
MiB = 1048576.0


def sink_call(url, method, path, body=None):
    assert url.startswith("http://127.0.0.1:"), "loopback only"
    host, port = url[len("http://"):].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data or b"{}")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        s = f.read()
    fields = s[s.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def cmd_run(a):
    status, _ = sink_call(a.sink, "POST", "/_sink/reset", b"{}")
    if status != 200:
        sys.exit("w2: the sink at %s did not answer /_sink/reset" % a.sink)
    sink0 = cpu_seconds(a.sink_pid)
    stderr = open(a.stderr, "wb") if a.stderr else subprocess_devnull()
    with open(a.input, "rb") as fin, open(os.devnull, "wb") as fout:
        wall, st, ru, timed_out = spawn_and_wait(a.cmd, fin, fout, stderr, a.timeout)
    sink_cpu = cpu_seconds(a.sink_pid) - sink0
    _, stats = sink_call(a.sink, "GET", "/_sink/stats")
    docs = int(stats.get("docs", 0))
    res = {
        "name": a.name, "exit": os.waitstatus_to_exitcode(st), "timed_out": timed_out,
        "wall_s": round(wall, 4), "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3), "peak_rss_MiB": round(ru.ru_maxrss / 1024.0, 1),
        "input_bytes": os.path.getsize(a.input), "lines": a.lines, "sink_cpu_s": round(sink_cpu, 2),
        "docs": docs, "requests": int(stats.get("requests", 0)), "bytes_in": int(stats.get("bytes_in", 0)),
        "bytes_inflated": int(stats.get("bytes_inflated", 0)), "checked": int(stats.get("checked", 0)),
        "bad": int(stats.get("bad", 0)), "load_before": open("/proc/loadavg").read().split()[0],
    }
    if a.results:
        with open(a.results, "a") as f:
            f.write(json.dumps(res) + "\n")
    print("w2: %-10s exit %s  wall %.2f s  %s events/s  cpu %.2f s  rss %.1f MiB  docs %d  sink cpu %.2f s%s" % (
        a.name, res["exit"], wall, "{:,}".format(round(docs / wall)) if wall else "?", res["cpu_s"],
        res["peak_rss_MiB"], docs, sink_cpu, "  (KILLED after %gs)" % a.timeout if timed_out else ""),
        file=sys.stderr)
    return 0 if res["exit"] == 0 and docs == a.lines else 1


def subprocess_devnull():
    return open(os.devnull, "wb")


def cmd_table(a):
    runs = []
    with open(a.results) as f:
        runs = [json.loads(l) for l in f if l.strip()]
    good = [r for r in runs if r["exit"] == 0 and not r["timed_out"] and r["docs"] == a.lines]
    bad = [r for r in runs if r not in good]
    med = lambda k: statistics.median(r[k] for r in good)
    print("| runs ok | wall s (median, min-max) | events/s | input MiB/s | CPU s user+sys | user / sys s | "
          "cores busy | peak RSS MiB (max) | sink CPU s | _bulk requests | gzip bytes/event | inflated bytes/event |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    if good:
        wall = med("wall_s")
        print("| %d/%d | %.2f (%.2f-%.2f) | %s | %.1f | %.2f | %.2f / %.2f | %.2f | %.1f | %.2f | %d | %.1f | %.1f |" % (
            len(good), len(runs), wall, min(r["wall_s"] for r in good), max(r["wall_s"] for r in good),
            "{:,}".format(round(a.lines / wall)), good[0]["input_bytes"] / MiB / wall, med("cpu_s"),
            med("user_s"), med("sys_s"), med("cpu_s") / wall, max(r["peak_rss_MiB"] for r in good),
            med("sink_cpu_s"), med("requests"), med("bytes_in") / a.lines, med("bytes_inflated") / a.lines))
        eps = a.lines / wall
        print()
        # Measured on this kind of machine (2 cores, AMD EPYC), W2 on 1M lines:
        # docs/benchmarks.md (Fluent Bit 5.1.1 with gzip; rsyslog without).
        print("- vs Fluent Bit 5.1.1 W2 (gzip, 93,540 events/s, measured separately): **%.2f×**" % (eps / 93540))
        print("- vs rsyslog 8.2302 W2 (no compression, 66,290 events/s, measured separately): **%.2f×**" % (eps / 66290))
        checked = [r["checked"] for r in good]
        print("- every document checked by the sink: %s; load average before the runs: %s" % (
            "yes" if all(c == a.lines for c in checked) else "NO (%s)" % checked,
            ", ".join(r["load_before"] for r in runs)))
    for r in bad:
        print("\n**FAIL** %s: exit %s, %d of %d documents%s" % (
            r["name"], r["exit"], r["docs"], a.lines, ", killed" if r["timed_out"] else ""))
    return 0 if good and not bad else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--input", required=True)
    r.add_argument("--lines", type=int, required=True)
    r.add_argument("--sink", required=True)
    r.add_argument("--sink-pid", type=int, required=True)
    r.add_argument("--results")
    r.add_argument("--stderr")
    r.add_argument("--timeout", type=float, default=900.0)
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--lines", type=int, required=True)
    a = ap.parse_args()
    if hasattr(a, "cmd"):
        a.cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if not a.cmd:
            ap.error("no command after --")
    sys.exit({"run": cmd_run, "table": cmd_table}[a.what](a))


if __name__ == "__main__":
    main()
