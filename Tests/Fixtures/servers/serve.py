#!/usr/bin/env python3
"""Starts a real server for the end-to-end tests on a free port of 127.0.0.1 and prints one JSON
line {"url": "http://127.0.0.1:PORT"} once it answers; stops it (by its PID) when this script's
stdin closes or it gets SIGTERM. Stdlib only.

    serve.py alertmanager DIR   Prometheus Alertmanager (Debian's prometheus-alertmanager), with
                                a throwaway config and storage in DIR
    serve.py mlflow DIR         an MLflow tracking server, SQLite store and artifacts in DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ALERTMANAGER_CONFIG = """\
route:
  receiver: nobody
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: nobody
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    kind, directory = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    log = open(os.path.join(directory, kind + ".log"), "ab")
    if kind == "alertmanager":
        config = os.path.join(directory, "alertmanager.yml")
        with open(config, "w") as f:
            f.write(ALERTMANAGER_CONFIG)
        argv = ["/usr/bin/prometheus-alertmanager", "--config.file=" + config,
                "--storage.path=" + os.path.join(directory, "data"),
                "--web.listen-address=127.0.0.1:%d" % port, "--cluster.listen-address="]
        ready = url + "/-/ready"
    elif kind == "mlflow":
        argv = [sys.executable, "-m", "mlflow", "server",
                "--backend-store-uri", "sqlite:///" + os.path.join(directory, "db"),
                "--default-artifact-root", os.path.join(directory, "art"),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        ready = url + "/health"
    else:
        sys.exit("unknown server " + kind)
    child = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(*_):
        try:
            os.killpg(child.pid, signal.SIGTERM)  # its own session: the server and its workers
            child.wait(timeout=10)
        except Exception:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except Exception:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.time() + 120
    while time.time() < deadline:
        if child.poll() is not None:
            sys.exit("%s exited with %s" % (kind, child.returncode))
        try:
            with urllib.request.urlopen(ready, timeout=1) as r:
                if r.status == 200:
                    break
        except Exception:
            time.sleep(0.2)
    else:
        stop()
    print(json.dumps({"url": url}), flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while True:
        time.sleep(1)
        if child.poll() is not None:
            os._exit(1)


if __name__ == "__main__":
    main()
