#!/usr/bin/env python3
"""The status page's first draw with 20 models and an hour of history, in headless Chromium.

Runs the demo pipeline under `driftwood run --serve` (from DRIFTWOOD_HOME, the repository),
takes the page's own bytes from its `/` and its `/api/v1/status`, grows that status to --models
copies of its fraud-detector model (the one with the most charts: drift, the prediction's
histogram, evaluate's performance and fairness metrics) with --steps history steps of every
series (an hour is 360 steps of 10 s, which cannot be waited for), serves both from a static
server on 127.0.0.1, and loads the page --runs times in a fresh headless Chromium
(Tests/EndToEndTests/Support/page_probe.py). The page's own first-draw time (from navigation to
the first screen painted: header, pipeline, alerts and the first two model cards) is what it
reports, with every run's check that all 20 cards drew the whole hour. Prints one JSON object.

usage: status_draw.py --bin DRIFTWOOD [--runs 7] [--models 20] [--steps 360] [--port 19795]
                      [--work DIR]
"""
import argparse
import functools
import http.client
import http.server
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from status_cost import wait_until_serving

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = os.path.join(ROOT, "Tests/EndToEndTests/Support/page_probe.py")


def get(port, path):
    for _ in range(600):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status == 200:
            return body
        if r.status != 503:
            raise SystemExit(f"status_draw: GET {path} answered {r.status}")
        time.sleep(0.1)
    raise SystemExit(f"status_draw: GET {path} kept answering 503")


def scaled(status, models, steps):
    """The status grown to `models` copies of fraud-detector and `steps` history steps."""
    source = status["models"]["fraud-detector"]
    evaluation = source.get("evaluation", {})
    metrics = list(evaluation.get("metrics", {}).keys())
    fairness = {a: list(m.keys()) for a, m in evaluation.get("fairness", {}).items()}
    status = dict(status)
    status["models"] = {"model-%02d" % k: source for k in range(models)}
    now = time.time()
    t = [round(now - (steps - 1 - i) * 10) for i in range(steps)]

    def series(base):
        return [round(base * (1 + 0.3 * math.sin(i / 7)) * 1e6) / 1e6 for i in range(steps)]

    history = {}
    for name in status["models"]:
        history[name] = {
            "rate": series(30), "error_rate": series(0.03), "latency": series(40), "drift_max": series(0.1),
            "performance": {m: series(0.7) for m in metrics},
            "fairness": {a: {m: series(0.2) for m in names} for a, names in fairness.items()},
        }
    status["history"] = {"t": t, "rate_in": series(120), "rate_out": series(120), "models": history}
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--steps", type=int, default=360)
    ap.add_argument("--port", type=int, default=19795)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not shutil.which("chromium"):
        raise SystemExit("status_draw: needs chromium (Debian package `chromium`)")

    work = a.work or tempfile.mkdtemp(prefix="driftwood-draw-")
    os.makedirs(work, exist_ok=True)
    for old in ("state", "out", "site"):  # a run before this one: read the sample log again
        shutil.rmtree(os.path.join(work, old), ignore_errors=True)
    log_path = os.path.join(work, "status-draw-driftwood.log")
    env = dict(os.environ, DRIFTWOOD_HOME=ROOT)
    cmd = [a.bin, "run", os.path.join(ROOT, "pipelines/demo.yml"), "--serve",
           "--metrics-address", f"127.0.0.1:{a.port}", "--data-dir", os.path.join(work, "state")]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                cwd=work, env=env)
    try:
        wait_until_serving(proc, log_path, 300, "status_draw")
        page = get(a.port, "/")
        status = json.loads(get(a.port, "/api/v1/status"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)

    site = os.path.join(work, "site")
    os.makedirs(os.path.join(site, "api/v1"), exist_ok=True)
    with open(os.path.join(site, "index.html"), "wb") as f:
        f.write(page)
    body = json.dumps(scaled(status, a.models, a.steps)).encode()
    with open(os.path.join(site, "api/v1/status"), "wb") as f:
        f.write(body)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    draws, problems = [], []
    try:
        for run in range(a.runs):
            shot = os.path.join(work, f"status-draw-{run}.png")
            out = subprocess.run([sys.executable, PROBE, url, shot, "60"], capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"status_draw: page_probe.py failed: {out.stderr}{out.stdout}")
            result = json.loads(out.stdout)
            values = result.get("values", {})
            cards = [k for k in values if k.startswith("model:") and k.endswith(":events")]
            last = "model-%02d" % (a.models - 1)
            if len(cards) != a.models or values.get(f"chart:{last}:drift_max") != str(a.steps):
                problems.append(f"run {run}: {len(cards)} cards, last card drew "
                                f"{values.get(f'chart:{last}:drift_max')} of {a.steps} steps")
            if result.get("console_errors"):
                problems.append(f"run {run}: console errors {result['console_errors']}")
            draws.append(result["first_draw_ms"])
            print(f"status_draw: run {run + 1} of {a.runs}: first draw {result['first_draw_ms']:.0f} ms",
                  file=sys.stderr)
    finally:
        server.shutdown()
    print(json.dumps({
        "models": a.models, "steps": a.steps, "status_bytes": len(body), "page_bytes": len(page),
        "first_draw_ms": draws, "median_ms": statistics.median(draws), "best_ms": min(draws),
        "problems": problems, "screenshots": work,
    }))


if __name__ == "__main__":
    main()
