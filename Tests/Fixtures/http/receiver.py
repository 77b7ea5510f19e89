#!/usr/bin/env python3
"""A small HTTP receiver for the `http` output tests (stdlib only, 127.0.0.1 only).

It answers every request 200 unless told otherwise, and records what it got: method, path,
headers, the body (inflated when gzip), the events in it and the status it answered.

    receiver.py [--port 0]

Prints one JSON line {"url": "http://127.0.0.1:PORT"} when ready; exits when its stdin closes.

Control endpoints (never recorded):
    POST /_receiver/answers  a JSON list appended to the queue; each applies to the next `times`
                             requests (default 1):
        {"status": 503}                 answer 503 (also 200, 429, 400, 401, 413, ...), "body" optional
        {"kind": "max_events", "limit": 10, "times": 100}   413 when a request has more events
        {"kind": "hang", "seconds": 5}  read the request, say nothing for that long, close
        {"kind": "reset"}               read the request, close the connection at once
        {"kind": "garbage"}             answer bytes that are not HTTP
        {"kind": "unreadable"}          200 whose body is cut short (Content-Length 1000, 10 bytes sent)
    POST /_receiver/always   {"status": 200} every request answered so (or {"kind": ...}) until /_receiver/normal
    POST /_receiver/normal
    GET  /_receiver/requests the recorded requests:
         [{"method","path","headers","events","status","encoding"}]; "events" is the list of
         JSON values the body held (NDJSON lines, the elements of an array, or the one object)
"""
import argparse
import gzip
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ANSWERS = []
RECORDED = []
ALWAYS = {"answer": None}


def take_answer(events):
    with LOCK:
        if ALWAYS["answer"] is not None:
            return dict(ALWAYS["answer"])
        for a in ANSWERS:
            if a.get("times", 1) <= 0:
                continue
            if a.get("kind") == "max_events" and len(events) <= a.get("limit", 1):
                continue
            a["times"] = a.get("times", 1) - 1
            return dict(a)
    return None


def parse_events(body):
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return [], "empty"
    try:
        value = json.loads(text)
        if isinstance(value, list):
            return value, "json_array"
        if "\n" not in text:
            return [value], "json"
    except ValueError:
        pass
    out = []
    for line in text.split("\n"):
        if line:
            out.append(json.loads(line))
    return out, "ndjson"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def reply(self, status, data, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.startswith("/_receiver/"):
            return self.control(raw)
        body = raw
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip" and raw:
            body = gzip.decompress(raw)
        try:
            events, encoding = parse_events(body)
        except ValueError as e:
            events, encoding = [], "unparseable: %s" % e
        entry = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                 "events": events, "encoding": encoding, "status": None, "bytes": len(raw)}
        with LOCK:
            RECORDED.append(entry)
        answer = take_answer(events) or {"status": 200}
        kind = answer.get("kind")
        if kind == "hang":
            entry["status"] = "hang"
            time.sleep(float(answer.get("seconds", 5)))
            self.close_connection = True
            return
        if kind == "reset":
            entry["status"] = "reset"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            return
        if kind == "garbage":
            entry["status"] = "garbage"
            self.wfile.write(b"\x00\xffthis is not HTTP\r\n\r\n")
            self.close_connection = True
            return
        if kind == "unreadable":
            entry["status"] = "unreadable"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"ok": tru')
            self.wfile.flush()
            self.close_connection = True
            return
        status = int(answer.get("status", 413 if kind == "max_events" else 200))
        entry["status"] = status
        data = answer.get("body", '{"status": %d}' % status).encode()
        self.reply(status, data)

    def control(self, raw):
        if self.path == "/_receiver/answers":
            with LOCK:
                ANSWERS.extend(json.loads(raw or b"[]"))
        elif self.path == "/_receiver/always":
            with LOCK:
                ALWAYS["answer"] = json.loads(raw or b"{}")
        elif self.path == "/_receiver/normal":
            with LOCK:
                ALWAYS["answer"] = None
        elif self.path == "/_receiver/requests":
            with LOCK:
                return self.reply(200, json.dumps(RECORDED).encode())
        else:
            return self.reply(404, b'{"error": "unknown control path"}')
        self.reply(200, b'{"ok": true}')


def main():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"url": "http://127.0.0.1:%d" % server.server_address[1]}), flush=True)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
