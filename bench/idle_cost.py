#!/usr/bin/env python3
"""Idle cost of the file input (issue #4): FILES files each growing by RATE lines a second;
driftwood tails them into a JSONL file. Reports driftwood's CPU (user+sys, all threads, from
/proc) over a measuring window after a warm-up, as a percentage of one core, and checks that
every line written was delivered.

  bench/idle_cost.py --bin .build/release/driftwood [--files 200] [--rate 10] [--seconds 20]
"""
import argparse, json, os, random, signal, subprocess, sys, tempfile, time

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--rate", type=float, default=10.0, help="lines per second per file")
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window")
    ap.add_argument("--warmup", type=float, default=5.0)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="driftwood-idle-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    handles = [open(os.path.join(logs, f"model-{k}.log"), "a", buffering=1) for k in range(a.files)]
    with open(os.path.join(work, "p.yml"), "w") as f:
        f.write(f"""data_dir: {work}/state
inputs:
  - type: file
    paths: ["{logs}/*.log"]
filters:
  - {{type: parse, format: json}}
outputs:
  - {{type: jsonl, path: "{work}/out.jsonl"}}
""")
    proc = subprocess.Popen([a.bin, "run", os.path.join(work, "p.yml")], stderr=open(os.path.join(work, "driftwood.log"), "w"))
    written = 0
    rng = random.Random(1)
    # Each file gets RATE lines a second, spread over the second (one tick = 1/RATE s).
    tick = 1.0 / a.rate
    start = time.monotonic()
    measure_from = start + a.warmup
    measure_to = measure_from + a.seconds
    cpu0 = None
    next_tick = start
    while True:
        now = time.monotonic()
        if cpu0 is None and now >= measure_from:
            cpu0, t0 = cpu_seconds(proc.pid), now
        if now >= measure_to:
            cpu1, t1 = cpu_seconds(proc.pid), now
            break
        for k, h in enumerate(handles):
            h.write(json.dumps({"n": written, "model": f"m{k % 7}", "latency_ms": round(rng.uniform(5, 200), 1),
                                "prediction": round(rng.random(), 4), "level": "INFO"}) + "\n")
            written += 1
        next_tick += tick
        time.sleep(max(0.0, next_tick - time.monotonic()))
    for h in handles:
        h.close()
    # Every line delivered?
    out = os.path.join(work, "out.jsonl")
    deadline = time.monotonic() + 15
    delivered = 0
    while time.monotonic() < deadline:
        with open(out, "rb") as f:
            delivered = sum(1 for _ in f)
        if delivered >= written:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    percent = 100.0 * (cpu1 - cpu0) / (t1 - t0)
    result = {"files": a.files, "lines_per_second_per_file": a.rate, "window_s": round(t1 - t0, 1),
              "driftwood_cpu_s": round(cpu1 - cpu0, 3), "cpu_percent_of_one_core": round(percent, 2),
              "lines_written": written, "lines_delivered": delivered, "work": work}
    print(json.dumps(result))
    print(f"driftwood CPU: {percent:.2f}% of one core while tailing {a.files} files x {a.rate:g} lines/s "
          f"(target: under 2%); delivered {delivered}/{written}", file=sys.stderr)
    sys.exit(0 if delivered == written else 1)


if __name__ == "__main__":
    main()
