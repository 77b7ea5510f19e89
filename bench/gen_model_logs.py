#!/usr/bin/env python3
"""Deterministic generator of ML model-server prediction logs (JSON lines).

stdlib only. Same --seed and --lines give byte-identical output.

This is a copy of the generator the peers were measured with so that the
repository's bench/ is self-contained. Keep the two identical in behaviour: the peer figures
in docs/benchmarks.md were taken on its output (1,000,000 lines, seed 42, sha256
f69a18fcc9bf6350e4ca9743e8f78379a8236c1fca59f98d9348cb3d04ef66ba), and driftwood is only
comparable with them on byte-identical input.

Each line looks like:
{"ts":"2026-11-24T10:00:00.123Z","level":"INFO","logger":"model_server",
 "msg":"prediction","request_id":"...","model":"fraud-detector",
 "features":{"amount":123.4,"age":37,"country":"DE","channel":"web"},
 "prediction":0.8312,"label":"fraud","latency_ms":12.7}

About 1.5% of lines are level ERROR and carry an "error" field (and no
prediction/label).

Usage: gen_model_logs.py --lines 2000000 --out /tmp/peers/data/model_logs.jsonl
"""
import argparse
import datetime as _dt
import json
import random
import sys

MODELS = [
    # (name, positive label, negative label)
    ("fraud-detector", "fraud", "legit"),
    ("churn-predictor", "churn", "stay"),
    ("credit-scorer", "reject", "approve"),
    ("spam-filter", "spam", "ham"),
]
COUNTRIES = ["DE", "US", "FR", "GB", "NL", "ES", "IT", "PL", "SE", "JP", "BR", "IN"]
CHANNELS = ["web", "mobile", "api", "pos"]
ERRORS = [
    "feature store timeout after 250ms",
    "model backend unavailable: connection refused",
    "invalid feature vector: amount is NaN",
    "CUDA out of memory while allocating batch",
    "deadline exceeded",
]
ERROR_RATE = 0.015


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--out", required=True, help="output path, '-' for stdout")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start", default="2026-11-24T10:00:00",
                    help="timestamp of the first line (UTC, ISO 8601 without zone)")
    args = ap.parse_args(argv)

    rnd = random.Random(args.seed)
    t0 = _dt.datetime.fromisoformat(args.start).replace(tzinfo=_dt.timezone.utc)
    base_epoch_ms = int(t0.timestamp() * 1000)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="ascii", newline="\n")
    buf = []
    now_ms = base_epoch_ms
    cached_sec = None
    cached_prefix = ""
    errors = 0
    for i in range(args.lines):
        now_ms += rnd.randint(0, 3)  # ~ 670 predictions per second
        sec, ms = divmod(now_ms, 1000)
        if sec != cached_sec:
            cached_sec = sec
            cached_prefix = _dt.datetime.fromtimestamp(sec, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        ts = "%s.%03dZ" % (cached_prefix, ms)
        model, pos, neg = MODELS[rnd.randrange(len(MODELS))]
        rid = "%08x-%04x-4%03x-%04x-%012x" % (
            rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12),
            0x8000 | rnd.getrandbits(14), rnd.getrandbits(48))
        features = {
            "amount": round(rnd.lognormvariate(4.0, 1.2), 2),
            "age": rnd.randint(18, 90),
            "country": COUNTRIES[rnd.randrange(len(COUNTRIES))],
            "channel": CHANNELS[rnd.randrange(len(CHANNELS))],
        }
        if rnd.random() < ERROR_RATE:
            errors += 1
            rec = {
                "ts": ts, "level": "ERROR", "logger": "model_server",
                "msg": "prediction failed", "request_id": rid, "model": model,
                "features": features,
                "error": ERRORS[rnd.randrange(len(ERRORS))],
                "latency_ms": round(rnd.uniform(50.0, 400.0), 1),
            }
        else:
            p = round(rnd.random(), 4)
            rec = {
                "ts": ts, "level": "INFO", "logger": "model_server",
                "msg": "prediction", "request_id": rid, "model": model,
                "features": features,
                "prediction": p, "label": pos if p >= 0.5 else neg,
                "latency_ms": round(rnd.gammavariate(2.0, 4.0) + 1.0, 1),
            }
        buf.append(dumps(rec))
        if len(buf) >= 10000:
            buf.append("")
            out.write("\n".join(buf))
            buf = []
    if buf:
        buf.append("")
        out.write("\n".join(buf))
    if out is not sys.stdout:
        out.close()
    print("wrote %d lines (%d ERROR) to %s" % (args.lines, errors, args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
