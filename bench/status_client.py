#!/usr/bin/env python3
"""What a browser on the status page does, for bench/status.sh: GET / and /api/v1/status at
ADDRESS every INTERVAL seconds (the page's own refresh, at ?refresh=1) until killed; prints how
many answers it got and their bytes when it ends (SIGTERM).

usage: status_client.py HOST:PORT [INTERVAL]
"""
import http.client
import signal
import sys
import time

address, interval = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
host, port = address.rsplit(":", 1)
answers, size = 0, 0


def done(*_):
    print(f"status_client: {answers} answers, {size} bytes", file=sys.stderr)
    sys.exit(0)


signal.signal(signal.SIGTERM, done)
while True:
    started = time.monotonic()
    for path in ("/", "/api/v1/status"):
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=5)
            c.request("GET", path)
            body = c.getresponse().read()
            c.close()
            answers += 1
            size += len(body)
        except OSError:
            pass  # not listening yet, or gone
    time.sleep(max(0.0, interval - (time.monotonic() - started)))
