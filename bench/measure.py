#!/usr/bin/env python3
"""Time commands for bench/run.sh and print the result table (stdlib only, Linux).

  measure.py run --name NAME --input FILE --stdout FILE [--count FILE] [--stderr FILE]
                 [--results FILE.jsonl] [--timeout S] -- CMD ...
      Runs CMD once with stdin from --input and stdout to --stdout. Wall time is monotonic
      time from spawn to exit. CPU (ru_utime + ru_stime) and peak RSS (ru_maxrss, KiB) come
      from os.wait4's rusage: the command's own (plus children it waited for), not ours.
      Afterwards (not timed) counts the lines of --count (default: the --stdout file).
      Appends one JSON object to --results. Exit status: 0 if CMD exited 0.
      --stop-at-lines N, for a command that never ends by itself (a kafka input): the --count
      file is watched (every 50 ms, reading only what was added) and CMD gets SIGTERM once it
      holds N lines; the result then also has first_line_s and reached_s (seconds from spawn
      until the file's first line and its Nth). The watching is this process's CPU, not CMD's.
      With $BENCH_CORE_LINK set (lib.sh's `core_link_probe` sets it), bench/core_link runs
      right before and right after CMD, and the result has core_link_ns: [before, after], the
      round trip of a cache line between CPUs 0 and 1 (docs/benchmarks.md: why it matters).
      --delivered-from LOG, for a driftwood run whose output goes to /dev/null: out_lines is
      the sum of "delivered N" in the run summary driftwood wrote to LOG (its --stderr).

  measure.py best --runs N [--timeout S] -- CMD ...
      Best (lowest) wall time of N runs of CMD in ms, e.g. for `driftwood check`.

  measure.py table RESULTS.jsonl --lines N [--require NAME]
      Markdown table (medians over repetitions), the events/s ratios of --require
      (default driftwood) to python and to cat, and a loud FAIL line for every command whose
      output does not hold exactly N lines. Exit status 1 if --require failed or is missing.

Why CMD is started through `sh -c 'CMD &'`: Linux keeps a process's peak RSS across exec, so
a command forked straight from this Python process would report at least Python's ~15 MiB
(`cat` would show 15 MiB instead of 1.5). A process forked by a small shell starts from the
shell's ~1 MiB instead. The shell exits at once; as a child subreaper we inherit the command
and wait4() it ourselves, so its rusage is exact and the shell adds ~1 ms of wall time.
"""
import argparse
import ctypes
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

MiB = 1048576.0
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
# Run "$@" in the background with our stdin: a background job's stdin would be /dev/null.
LAUNCH = 'exec 3<&0; "$@" <&3 3<&- &'


def delivered(log):
    """Events delivered by every output, from the `summary: output ...: delivered N` lines."""
    try:
        text = open(log, encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return None
    counts = [int(n) for n in re.findall(r"summary: output \S+: received \d+, delivered (\d+)", text)]
    return sum(counts) if counts else None


def count_lines(path):
    n = 0
    try:
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 22)
                if not b:
                    return n
                n += b.count(b"\n")
    except FileNotFoundError:
        return None


class LineWatch(threading.Thread):
    """Counts the lines of a growing file; calls reached() once it holds `target` lines."""

    def __init__(self, path, target):
        super().__init__(daemon=True)
        self.path, self.target = path, target
        self.t0, self.reached = time.monotonic(), lambda: None
        self.done = threading.Event()
        self.first_line_s = self.reached_s = None

    def run(self):
        n, pos = 0, 0
        while not self.done.is_set():
            try:
                with open(self.path, "rb") as f:
                    f.seek(pos)
                    while True:
                        b = f.read(1 << 22)
                        if not b:
                            break
                        n += b.count(b"\n")
                        pos += len(b)
            except FileNotFoundError:
                pass
            now = time.monotonic() - self.t0
            if n and self.first_line_s is None:
                self.first_line_s = now
            if n >= self.target:
                self.reached_s = now
                self.reached()
                return
            self.done.wait(0.05)


def spawn_and_wait(cmd, stdin, stdout, stderr, timeout, watch=None):
    """Run cmd, return (wall seconds, wait status, rusage, timed out?). watch: a LineWatch,
    started with cmd; cmd gets SIGTERM once the file holds the watch's number of lines."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    timed_out = threading.Event()
    t0 = time.monotonic()
    sh = subprocess.Popen(["/bin/sh", "-c", LAUNCH, "sh"] + cmd, stdin=stdin, stdout=stdout,
                          stderr=stderr, start_new_session=True)

    def kill():  # a hung command must not hang the whole bench; it is in sh's process group
        timed_out.set()
        try:
            os.killpg(sh.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    if watch:
        def stop():
            try:
                os.killpg(sh.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        watch.t0, watch.reached = t0, stop
        watch.start()
    try:
        _, status, _ = os.wait4(sh.pid, 0)
        sh.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting
        try:
            _, status, ru = os.wait4(-1, 0)  # the command, re-parented to us when sh exited
        except ChildProcessError:  # a shell that reaps its jobs (not dash) beat us to it
            sys.exit("measure: /bin/sh reaped %s itself; no rusage for it" % cmd[0])
    finally:
        timer.cancel()
        if watch:
            watch.done.set()
    return time.monotonic() - t0, status, ru, timed_out.is_set()


def core_link():
    """bench/core_link's round trip between CPUs 0 and 1 in ns, when $BENCH_CORE_LINK names it."""
    probe = os.environ.get("BENCH_CORE_LINK")
    if not probe:
        return None
    try:
        return float(subprocess.run([probe], capture_output=True, text=True, timeout=30).stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def cmd_run(a):
    stderr = open(a.stderr, "wb") if a.stderr else subprocess.DEVNULL
    link_before = core_link()
    with open(a.input, "rb") as fin, open(a.stdout, "wb") as fout:
        watcher = LineWatch(a.count or a.stdout, a.stop_at_lines) if a.stop_at_lines else None
        wall, status, ru, timed_out = spawn_and_wait(a.cmd, fin, fout, stderr, a.timeout, watcher)
    res = {
        "name": a.name, "cmd": a.cmd,
        "exit": os.waitstatus_to_exitcode(status),  # -N: killed by signal N
        "timed_out": timed_out,
        "wall_s": round(wall, 4),
        "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_MiB": round(ru.ru_maxrss / 1024.0, 1),  # ru_maxrss is in KiB on Linux
        "input_bytes": os.path.getsize(a.input),
        "out_lines": delivered(a.delivered_from) if a.delivered_from else count_lines(a.count or a.stdout),
    }
    link_after = core_link()
    if link_before is not None and link_after is not None:
        res["core_link_ns"] = [link_before, link_after]
    if watcher:
        res["first_line_s"] = watcher.first_line_s and round(watcher.first_line_s, 4)
        res["reached_s"] = watcher.reached_s and round(watcher.reached_s, 4)
    if a.results:
        with open(a.results, "a") as f:
            f.write(json.dumps(res) + "\n")
    link = "  core link %g/%g ns" % tuple(res["core_link_ns"]) if "core_link_ns" in res else ""
    print("measure: %-10s exit %s  wall %.2f s  cpu %.2f s  rss %.1f MiB  out lines %s%s%s" % (
        a.name, res["exit"], wall, res["cpu_s"], res["peak_rss_MiB"], res["out_lines"], link,
        "  (KILLED after %gs timeout)" % a.timeout if timed_out else ""), file=sys.stderr)
    if res["exit"] != 0 and a.stderr:
        with open(a.stderr, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace").strip()
        if tail:
            print("measure: end of %s:\n%s" % (a.stderr, tail), file=sys.stderr)
    return 0 if res["exit"] == 0 else 1


def cmd_best(a):
    best, last = None, None
    for _ in range(a.runs):
        t0 = time.monotonic()
        try:
            last = subprocess.run(a.cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("cannot run %s: %s" % (a.cmd[0], e))
            return 1
        dt = time.monotonic() - t0
        best = dt if best is None else min(best, dt)
    said = (last.stdout or last.stderr).decode("utf-8", "replace").strip().splitlines()
    print("best of %d: %.1f ms (exit %d%s)" % (
        a.runs, best * 1000, last.returncode, ": " + said[0] if said else ""))
    return last.returncode


def cmd_table(a):
    runs = {}
    with open(a.results) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs.setdefault(r["name"], []).append(r)

    def problem(r):
        """why run r does not count, or None if it is good"""
        if r["timed_out"]:
            return "killed after the timeout"
        if r["exit"] != 0:
            return "exit status %s" % r["exit"]
        if r["out_lines"] != a.lines:
            return "output has %s lines, expected %d" % (r["out_lines"], a.lines)
        return None

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    eps = {}
    fails = []
    print("| command | runs ok | wall s (median) | input MiB/s | events/s | CPU s user+sys | "
          "user / sys s | peak RSS MiB | output lines |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rs in runs.items():
        good = [r for r in rs if problem(r) is None]
        fails += ["%s: %s" % (name, problem(r)) for r in rs if problem(r) is not None]
        if not good:
            print("| %s | 0/%d | FAILED | | | | | | %s |" % (name, len(rs), rs[-1]["out_lines"]))
            continue
        wall = med(good, "wall_s")
        eps[name] = a.lines / wall
        print("| %s | %d/%d | %.2f | %.1f | %s | %.2f | %.2f / %.2f | %.1f | %s |" % (
            name, len(good), len(rs), wall, good[0]["input_bytes"] / MiB / wall,
            "{:,}".format(round(eps[name])), med(good, "cpu_s"),
            med(good, "user_s"), med(good, "sys_s"), max(r["peak_rss_MiB"] for r in good),
            "{:,}".format(good[0]["out_lines"])))
    print()
    me = a.require
    for other in ("python", "cat"):
        if me in eps and other in eps:
            print("- %s / %s, events/s: **%.3g×**" % (me, other, eps[me] / eps[other]))
        else:
            print("- %s / %s, events/s: n/a (%s did not complete)" % (me, other, me if me not in eps else other))
    for f in fails:
        print("\n**FAIL** %s" % f)
    if me not in runs:
        print("\n**FAIL** %s was not run" % me)
    return 0 if me in eps and not any(f.startswith(me + ":") for f in fails) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--input", required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr")
    r.add_argument("--count", help="file whose lines are the command's output (default --stdout)")
    r.add_argument("--delivered-from", help="driftwood log whose run summary gives out_lines (output /dev/null)")
    r.add_argument("--results")
    r.add_argument("--timeout", type=float, default=900.0)
    r.add_argument("--stop-at-lines", type=int, help="SIGTERM to CMD once the --count file holds this many lines")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    b = sub.add_parser("best")
    b.add_argument("--runs", type=int, default=5)
    b.add_argument("--timeout", type=float, default=60.0)
    b.add_argument("cmd", nargs=argparse.REMAINDER)
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--lines", type=int, required=True)
    t.add_argument("--require", default="driftwood")
    a = ap.parse_args()
    if hasattr(a, "cmd"):
        a.cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if not a.cmd:
            ap.error("no command after --")
    sys.exit({"run": cmd_run, "best": cmd_best, "table": cmd_table}[a.what](a))


if __name__ == "__main__":
    main()
