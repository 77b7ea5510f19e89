#!/usr/bin/env python3
"""What one refresh of the status page costs driftwood, in CPU time, for bench/status.sh.

Starts `driftwood run PIPELINE --serve --metrics-address 127.0.0.1:PORT` (stdin from --input,
or empty), waits until the pipeline has finished and the server keeps serving, measures the
process's idle CPU (all threads, nanoseconds from /proc/PID/task/*/schedstat) for --idle
seconds, then fetches, --polls times each and in turn:
  status  GET /api/v1/status             (what the open page does at every refresh)
  reload  GET / then GET /api/v1/status  (a browser reloading the page)
each on a new connection, as fast as they answer. The CPU driftwood spent beyond its idle rate,
divided by the polls, is the cost of one refresh. Prints one JSON object on stdout.

usage: status_cost.py --bin DRIFTWOOD --pipeline FILE [--input FILE] [--port 19791]
                      [--polls 400] [--idle 5] [--data-dir DIR] [--cwd DIR] [--log FILE]
"""
import argparse
import glob
import http.client
import json
import os
import signal
import subprocess
import sys
import time


def cpu_ns(pid):
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def wait_until_serving(proc, log_path, timeout, who):
    """Waits until `driftwood run --serve` (proc, its stderr in log_path) has finished its
    pipeline and keeps serving the status page; exits when it ends first or after timeout s."""
    deadline = time.monotonic() + timeout
    while b"still serving the status page" not in open(log_path, "rb").read():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{who}: driftwood did not get to serving (see {log_path})")
        time.sleep(0.1)


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise SystemExit(f"status_cost: GET {path} answered {r.status}")
    return len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--input")
    ap.add_argument("--port", type=int, default=19791)
    ap.add_argument("--polls", type=int, default=400)
    ap.add_argument("--idle", type=float, default=5.0)
    ap.add_argument("--data-dir")
    ap.add_argument("--cwd")
    ap.add_argument("--log", default="status_cost.log", help="driftwood's stderr")
    a = ap.parse_args()

    cmd = [a.bin, "run", a.pipeline, "--serve", "--metrics-address", f"127.0.0.1:{a.port}"]
    if a.data_dir:
        cmd += ["--data-dir", a.data_dir]
    stdin = open(a.input, "rb") if a.input else subprocess.DEVNULL
    log_path = a.log
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=log, cwd=a.cwd)
    try:
        wait_until_serving(proc, log_path, 600, "status_cost")
        time.sleep(11)  # the rates' 10 s window after the last event: a settled status
        page_bytes, status_bytes = get(a.port, "/"), get(a.port, "/api/v1/status")

        c0, t0 = cpu_ns(proc.pid), time.monotonic()
        time.sleep(a.idle)
        idle_rate = (cpu_ns(proc.pid) - c0) / (time.monotonic() - t0)  # ns of CPU per s

        result = {"page_bytes": page_bytes, "status_bytes": status_bytes,
                  "idle_cpu_percent": round(idle_rate / 1e7, 3), "polls": a.polls}
        for name, paths in (("status", ["/api/v1/status"]), ("reload", ["/", "/api/v1/status"])):
            c0, t0 = cpu_ns(proc.pid), time.monotonic()
            for _ in range(a.polls):
                for p in paths:
                    get(a.port, p)
            wall = time.monotonic() - t0
            spent = cpu_ns(proc.pid) - c0 - idle_rate * wall
            result[name + "_cpu_ms"] = round(spent / a.polls / 1e6, 4)
            result[name + "_wall_ms"] = round(wall / a.polls * 1e3, 3)
        print(json.dumps(result))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main())
