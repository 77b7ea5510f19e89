#!/usr/bin/env python3
"""Appends the lines of a JSON-lines log to another file at the pace they were logged, so a
pipeline tailing that file sees them arrive as it would have live (the status page's hour then
shows the story of the log instead of one burst).

  tools/pace_logs.py samples/model_logs.jsonl /tmp/live/model_logs.jsonl [--speed 2] [--field ts]

Each line is written when SPEED × (its `ts` minus the first line's) seconds have passed; a line
without a readable time (the samples hold a few broken lines on purpose) goes right after the
one before. Lines are flushed one by one; the script ends after the last.
"""
import argparse
import datetime
import json
import sys
import time


def when(line, field):
    try:
        value = json.loads(line)[field]
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("target")
    ap.add_argument("--speed", type=float, default=1.0, help="how many times faster than logged (default 1)")
    ap.add_argument("--field", default="ts", help="the time field (default ts)")
    a = ap.parse_args()
    # Bytes, not text: a log may hold bytes that are not UTF-8 (the samples do, on purpose).
    lines = open(a.source, "rb").read().splitlines(keepends=True)
    first = next((t for t in (when(l, a.field) for l in lines) if t is not None), None)
    start = time.monotonic()
    with open(a.target, "ab") as out:
        for line in lines:
            t = when(line, a.field)
            if t is not None and first is not None:
                delay = start + (t - first) / a.speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            out.write(line if line.endswith(b"\n") else line + b"\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
