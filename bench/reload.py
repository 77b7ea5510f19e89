#!/usr/bin/env python3
"""What a reload costs a running pipeline (bench/reload.sh runs it; stdlib only, Linux).

  reload.py stall --bin DRIFTWOOD --work DIR --input FILE --lines N [--interval 0.05]
                  [--reloads-on]
      The stall at full speed. driftwood tails FILE (N model-log lines, there before it starts,
      so the input reads as fast as it can until it has caught up): file -> parse json ->
      enrich model_version -> jsonl main (pipeline A; B adds a second jsonl output). With
      --reloads-on the pipeline file is switched between B and A with a SIGHUP every INTERVAL
      seconds until driftwood logs that it caught up; without, nothing (the control). The stall
      is read from main's events: the longest gap between consecutive read times
      (`@timestamp`, ms) in the INTERVAL after each signal, or, for the control, in each
      INTERVAL-long slice of the same catch-up. Prints one JSON object: the gaps, the catch-up
      time, what driftwood says it held its inputs for, and whether main holds each line once.

  reload.py rss --bin DRIFTWOOD --work DIR [--reloads 1000] [--interval 0.05] [--rate 20000]
      Many reloads on a live stream. A writer appends `{"n": i}` lines to DIR/app.log at RATE
      lines a second (a batch every millisecond); driftwood tails it (file -> parse -> jsonl
      main; B adds a second output) and gets RELOADS SIGHUPs, one every INTERVAL seconds.
      Prints one JSON object: RSS (VmRSS) before the first reload and after the 10th, 100th
      and last, the inputs_held_ms driftwood logged, and whether main holds each line once.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
from datetime import datetime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pipeline(work, path, extra, registry=None):
    lines = [
        "# written by bench/reload.py",
        f'data_dir: "{work}/data"',
        "inputs:",
        f'  - {{type: file, id: logs, paths: ["{path}"], mode: tail}}',
        "filters:",
        "  - {type: parse, id: json, format: json, remove_source: true}",
    ]
    if registry:
        lines += [
            "  - type: enrich",
            "    id: version",
            f'    model_version: {{registry: "{registry}", name_field: model, target: model_version, default: unknown}}',
        ]
    lines += ["outputs:", f'  - {{type: jsonl, id: main, path: "{work}/main.jsonl"}}']
    if extra:
        lines.append(f'  - {{type: jsonl, id: extra, path: "{work}/extra.jsonl"}}')
    return "\n".join(lines) + "\n"


class Writer(threading.Thread):
    def __init__(self, path, rate):
        super().__init__(daemon=True)
        self.path, self.per_ms, self.n, self.done = path, max(1, rate // 1000), 0, threading.Event()

    def run(self):
        with open(self.path, "a", buffering=1 << 20) as f:
            next_at = time.monotonic()
            while not self.done.is_set():
                f.write("".join(f'{{"n": {self.n + k}}}\n' for k in range(self.per_ms)))
                f.flush()
                self.n += self.per_ms
                next_at += 0.001
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)


def line_count(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


STAMP = re.compile(rb'"@timestamp":"([^"]+)"')
OFFSET = re.compile(rb'"offset":(\d+)')


def read_main(path):
    """Read times (epoch seconds, in output order) and log.offset of each event of main."""
    times, offsets, cache = [], [], {}
    with open(path, "rb") as f:
        for line in f:
            stamp = STAMP.search(line).group(1)
            t = cache.get(stamp)
            if t is None:
                t = cache[stamp] = datetime.fromisoformat(stamp.decode().replace("Z", "+00:00")).timestamp()
            times.append(t)
            offsets.append(int(OFFSET.search(line).group(1)))
    return times, offsets


def longest_gaps(times, starts, length):
    """For each start, the longest gap between consecutive read times whose first one is in
    [start, start + length), in ms."""
    gaps, i = [], 0
    for s in starts:
        while i < len(times) and times[i] < s:
            i += 1
        j, best = i, 0.0
        while j + 1 < len(times) and times[j] < s + length:
            best = max(best, times[j + 1] - times[j])
            j += 1
        gaps.append(best * 1000)
    return gaps


def summary(values):
    v = sorted(values)
    if not v:
        return None
    return {"n": len(v), "median": statistics.median(v), "p99": v[min(len(v) - 1, int(len(v) * 0.99))], "max": v[-1]}


def held_ms(log_path):
    """inputs_held_ms of each "reloaded" line of driftwood's log."""
    held = []
    with open(log_path) as f:
        for line in f:
            if "reloaded:" in line:
                held += [float(p.split("=", 1)[1]) for p in line.split() if p.startswith("inputs_held_ms=")]
    return held


def fresh(work):
    os.makedirs(work, exist_ok=True)
    for name in ("app.log", "main.jsonl", "extra.jsonl", "driftwood.log"):
        try:
            os.remove(os.path.join(work, name))
        except FileNotFoundError:
            pass
    subprocess.run(["rm", "-rf", f"{work}/data"], check=True)


def switch(live, text):
    with open(live + ".tmp", "w") as f:
        f.write(text)
    os.replace(live + ".tmp", live)


def wait_for(pred, timeout, what, proc, log):
    deadline = time.monotonic() + timeout
    while not pred():
        if proc.poll() is not None:
            raise SystemExit(f"bench: driftwood exited (status {proc.returncode}) before {what}; see {log}")
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen in {timeout} s; see {log}")
        time.sleep(0.01)


def stall(a):
    work = os.path.abspath(a.work)
    fresh(work)
    live, log_path = f"{work}/pipeline.yml", f"{work}/driftwood.log"
    texts = [pipeline(work, a.input, extra, a.registry) for extra in (False, True)]
    switch(live, texts[0])
    log = open(log_path, "w")
    started = time.time()
    proc = subprocess.Popen([a.bin, "run", live], stdout=subprocess.DEVNULL, stderr=log, cwd=work)
    main_path = f"{work}/main.jsonl"
    wait_for(lambda: os.path.exists(main_path) and os.path.getsize(main_path) > 0, 60, "a first event", proc, log_path)
    def caught_up():
        with open(log_path) as f:
            return "caught up" in f.read()

    signals, k = [], 0
    while not caught_up():
        if a.reloads_on:
            k += 1
            switch(live, texts[k % 2])
            signals.append(time.time())
            proc.send_signal(signal.SIGHUP)
        time.sleep(a.interval)
        if proc.poll() is not None:
            raise SystemExit(f"bench: driftwood exited; see {log_path}")
    wait_for(lambda: line_count(main_path) >= a.lines, 120, f"{a.lines} lines in main", proc, log_path)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    log.close()
    times, offsets = read_main(main_path)
    first, last = times[0], times[-1]
    if a.reloads_on:
        gaps = longest_gaps(times, [s for s in signals if s + a.interval <= last], a.interval)
    else:
        n = int((last - first) / a.interval)
        gaps = longest_gaps(times, [first + i * a.interval for i in range(n)], a.interval)
    print(json.dumps({
        "variant": "reloads" if a.reloads_on else "control", "exit": code, "lines": len(times),
        "exactly_once": len(times) == a.lines and len(set(offsets)) == a.lines,
        "reloads_sent": len(signals), "reloaded_lines": len(held_ms(log_path)),
        "catch_up_s": last - first, "wall_s": time.time() - started,
        "gap_ms": summary(gaps), "inputs_held_ms": summary(held_ms(log_path)),
    }))


def rss(a):
    work = os.path.abspath(a.work)
    fresh(work)
    live, log_path = f"{work}/pipeline.yml", f"{work}/driftwood.log"
    texts = [pipeline(work, f"{work}/app.log", extra) for extra in (False, True)]
    switch(live, texts[0])
    open(f"{work}/app.log", "w").close()
    log = open(log_path, "w")
    proc = subprocess.Popen([a.bin, "run", live], stdout=subprocess.DEVNULL, stderr=log, cwd=work)
    writer = Writer(f"{work}/app.log", a.rate)
    writer.start()
    main_path = f"{work}/main.jsonl"
    wait_for(lambda: line_count(main_path) > 0, 30, "a first event", proc, log_path)
    time.sleep(2)
    kib = {"before": rss_kib(proc.pid)}
    for k in range(1, a.reloads + 1):
        switch(live, texts[k % 2])
        proc.send_signal(signal.SIGHUP)
        time.sleep(a.interval)
        if (k in (10, 100) or k % 500 == 0) and k < a.reloads:
            kib[f"after_{k}"] = rss_kib(proc.pid)
    time.sleep(1)
    kib[f"after_{a.reloads}"] = rss_kib(proc.pid)
    writer.done.set()
    writer.join()
    total = writer.n
    wait_for(lambda: line_count(main_path) >= total, 120, f"{total} lines in main", proc, log_path)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    log.close()
    with open(main_path) as f:
        ns = sorted(json.loads(line)["n"] for line in f)
    print(json.dumps({
        "reloads": a.reloads, "interval_s": a.interval, "rate": a.rate, "lines": total, "exit": code,
        "reloaded_lines": len(held_ms(log_path)), "exactly_once": ns == list(range(total)),
        "extra_lines": line_count(f"{work}/extra.jsonl"), "inputs_held_ms": summary(held_ms(log_path)),
        "rss_kib": kib,
    }))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    for name in ("stall", "rss"):
        p = sub.add_parser(name)
        p.add_argument("--bin", required=True)
        p.add_argument("--work", required=True)
        p.add_argument("--interval", type=float, default=0.05)
    sub.choices["stall"].add_argument("--input", required=True)
    sub.choices["stall"].add_argument("--lines", type=int, required=True)
    sub.choices["stall"].add_argument("--registry")
    sub.choices["stall"].add_argument("--reloads-on", action="store_true")
    sub.choices["rss"].add_argument("--reloads", type=int, default=1000)
    sub.choices["rss"].add_argument("--rate", type=int, default=20000)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if getattr(a, "registry", None):
        a.registry = os.path.abspath(a.registry)
    stall(a) if a.what == "stall" else rss(a)


if __name__ == "__main__":
    main()
