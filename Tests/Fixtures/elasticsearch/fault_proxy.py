#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the Elasticsearch output tests (stdlib only, 127.0.0.1 only).

It sits between driftwood and an Elasticsearch-compatible server (osmem-server) and produces on
demand what that server never does: 503s, 429s, item-level 429s inside a 200, slow answers,
dropped connections, 413s above a size, 401s. It also records every request (method, path,
headers, the inflated body) so tests can check the Authorization header and the request shape
(data streams) that osmem-server does not enforce.

Without --upstream it answers `_bulk` itself, every item 201 (a null Elasticsearch), and any
other request 200 {}.

    fault_proxy.py [--upstream http://127.0.0.1:9200] [--port 0] [--no-lines] [--tls-cert C --tls-key K]

--no-lines records only the number of lines of each request, not the lines (large runs).

With --tls-cert/--tls-key it serves HTTPS. Prints one JSON line {"url": "http://127.0.0.1:PORT"}
(https://… with TLS) when ready. Exits when its stdin closes,
so a test that dies takes its proxy with it.

Control endpoints (never forwarded):
    POST /_proxy/faults   a JSON list of faults, appended to the queue; each applies to the next
                          `times` requests whose path contains `path` (default "_bulk"):
        {"kind": "status", "status": 503, "body": "...", "times": 2}
        {"kind": "items", "status": 429, "every": 2, "times": 1}  items 0, 2, 4, ... answered 429 (not
                          forwarded); the others are forwarded; errors: true
        {"kind": "delay", "seconds": 3, "times": 1}               wait, then forward
        {"kind": "drop", "times": 1}                              read the request, close the connection
        {"kind": "max_items", "limit": 10, "times": 1000}         413 for bulk requests with more items
        {"kind": "require_auth", "status": 401, "times": 2}       401 (with an ES security error)
        {"kind": "short_items", "times": 1}       forward only the first half of the items and answer
                          200 errors: false with their items only (a proxy that loses the rest)
        {"kind": "huge_answer", "bytes": 150000000, "times": 1}   forward, then answer the server's
                          answer with a "pad" member of that many bytes after its items
    POST /_proxy/down     {"status": 503} every request answered so until /_proxy/up (status 0: drop)
    POST /_proxy/up
    POST /_proxy/reset    forget faults and recorded requests
    GET  /_proxy/requests the recorded requests: [{"method","path","headers","lines","line_count","status"}]
"""
import argparse
import gzip
import http.client
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

LOCK = threading.Lock()
FAULTS = []  # dicts with "times" left
RECORDED = []
DOWN = {"status": None}
UPSTREAM = None
KEEP_LINES = True

ITEM_ERRORS = {
    429: ("es_rejected_execution_exception", "rejected execution (queue full) [fault proxy]"),
    503: ("unavailable_shards_exception", "primary shard is not active [fault proxy]"),
}


def take_fault(path, lines):
    with LOCK:
        for f in FAULTS:
            if f.get("times", 1) <= 0 or f.get("path", "_bulk") not in path:
                continue
            if f["kind"] == "max_items" and len(lines) // 2 <= f.get("limit", 1):
                continue
            f["times"] = f.get("times", 1) - 1
            return dict(f)
    return None


def bulk_items(lines):
    """NDJSON lines -> list of (action_line, source_line)."""
    items = []
    k = 0
    while k < len(lines):
        action = lines[k]
        source = lines[k + 1] if k + 1 < len(lines) else ""
        items.append((action, source))
        k += 2
    return items


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-elastic-product", "Elasticsearch")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path
        if path.startswith("/_proxy/"):
            return self.control(path, raw)
        body = raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip" and raw:
            body = gzip.decompress(raw)  # reads every member of a multi-member body
        lines = [l for l in body.decode("utf-8", "replace").split("\n") if l != ""]
        entry = {
            "method": self.command, "path": path, "lines": lines if KEEP_LINES else [], "line_count": len(lines),
            "headers": {k: v for k, v in self.headers.items()}, "status": None, "time": time.time(),
        }
        with LOCK:
            RECORDED.append(entry)
            down = DOWN["status"]
        if down is not None:
            if down == 0:
                self.close_connection = True
                return
            entry["status"] = down
            return self.reply(down, {"error": {"type": "fault_proxy", "reason": "down"}, "status": down})
        fault = take_fault(path, lines)
        kind = fault["kind"] if fault else None
        if kind == "drop":
            self.close_connection = True
            entry["status"] = "dropped"
            return
        if kind == "delay":
            time.sleep(float(fault.get("seconds", 1)))
        if kind in ("status", "require_auth", "max_items"):
            status = fault.get("status", 413 if kind == "max_items" else 401 if kind == "require_auth" else 503)
            entry["status"] = status
            if "body" in fault:
                return self.reply(status, fault["body"].encode(), "text/plain")
            error = {"type": "security_exception", "reason": "missing authentication credentials"} \
                if kind == "require_auth" else {"type": "fault_proxy", "reason": "injected %d" % status}
            return self.reply(status, {"error": error, "status": status})
        if kind == "items":
            return self.partial(entry, path, lines, fault)
        if kind == "short_items":
            items = bulk_items(lines)
            kept = items[:len(items) // 2]
            answers = []
            if kept:
                body = ("\n".join(a + "\n" + s for a, s in kept) + "\n").encode()
                st, data, _ = self.forward(body, path, plain=True)
                answers = json.loads(data).get("items", [])
            entry["status"] = 200
            return self.reply(200, {"errors": False, "items": answers})
        if kind == "huge_answer":
            status, data, ctype = self.forward(raw, path)
            entry["status"] = status
            answer = json.loads(data)
            head = json.dumps({"errors": answer.get("errors", False), "items": answer.get("items", [])})
            pad = b',"pad":"' + b"x" * int(fault.get("bytes", 150000000)) + b'"}'
            return self.reply(status, head[:-1].encode() + pad)
        status, data, ctype = self.forward(raw, path)
        entry["status"] = status
        self.reply(status, data, ctype)

    def partial(self, entry, path, lines, fault):
        """Answer every `every`-th item with `status`; forward the others."""
        items = bulk_items(lines)
        every = int(fault.get("every", 2))
        status = int(fault.get("status", 429))
        failed = [k for k in range(len(items)) if k % every == 0]
        kept = [it for k, it in enumerate(items) if k not in failed]
        answers = []
        if kept:
            body = ("\n".join(a + "\n" + s for a, s in kept) + "\n").encode()
            st, data, _ = self.forward(body, path, plain=True)
            if st != 200:
                entry["status"] = st
                return self.reply(st, data)
            answers = json.loads(data).get("items", [])
        etype, reason = ITEM_ERRORS.get(status, ("fault_proxy", "injected"))
        out = []
        it = iter(answers)
        for k, (action, _) in enumerate(items):
            if k in failed:
                op = next(iter(json.loads(action)))
                out.append({op: {"status": status, "error": {"type": etype, "reason": reason}}})
            else:
                out.append(next(it))
        entry["status"] = 200
        self.reply(200, {"errors": True, "items": out})

    def forward(self, body, path, plain=False):
        if UPSTREAM is None:
            return self.null_answer(body, path, plain)
        conn = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=120)
        headers = {}
        for k in ("Content-Type", "Content-Encoding", "Authorization"):
            v = self.headers.get(k)
            if v and not (plain and k == "Content-Encoding"):
                headers[k] = v
        try:
            conn.request(self.command, path, body=body if body else None, headers=headers)
            r = conn.getresponse()
            return r.status, r.read(), r.getheader("Content-Type") or "application/json"
        finally:
            conn.close()

    def null_answer(self, body, path, plain):
        if "_bulk" not in path:
            return 200, b"{}", "application/json"
        if not plain and (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        lines = [l for l in body.decode("utf-8", "replace").split("\n") if l != ""]
        items = []
        for action, _ in bulk_items(lines):
            op = next(iter(json.loads(action)))
            items.append({op: {"status": 201}})
        return 200, json.dumps({"errors": False, "items": items}).encode(), "application/json"

    def control(self, path, raw):
        if path == "/_proxy/faults":
            with LOCK:
                FAULTS.extend(json.loads(raw or b"[]"))
            return self.reply(200, {"ok": True})
        if path == "/_proxy/down":
            with LOCK:
                DOWN["status"] = json.loads(raw or b"{}").get("status", 503)
            return self.reply(200, {"ok": True})
        if path == "/_proxy/up":
            with LOCK:
                DOWN["status"] = None
            return self.reply(200, {"ok": True})
        if path == "/_proxy/reset":
            with LOCK:
                FAULTS.clear()
                RECORDED.clear()
                DOWN["status"] = None
            return self.reply(200, {"ok": True})
        if path == "/_proxy/requests":
            with LOCK:
                return self.reply(200, RECORDED)
        return self.reply(404, {"error": "unknown control path"})


def main():
    global UPSTREAM, KEEP_LINES
    # A test runner may start us with SIGTERM blocked (the mask is inherited): unblock it, so
    # the test's kill by PID ends us at once.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-lines", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    KEEP_LINES = not a.no_lines
    if a.upstream:
        UPSTREAM = urlparse(a.upstream)
        assert UPSTREAM.hostname in ("127.0.0.1", "localhost"), "loopback only"
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    scheme = "http"
    if a.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"url": "%s://127.0.0.1:%d" % (scheme, server.server_address[1])}), flush=True)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
