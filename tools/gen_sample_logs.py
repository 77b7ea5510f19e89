#!/usr/bin/env python3
"""Generate the bundled demo log samples/model_logs.jsonl (deterministic, stdlib only).

The lines have the shape of bench/gen_model_logs.py (ts, level, logger, msg, request_id,
model, features{amount,age,country,channel}, prediction, label, latency_ms; ERROR lines
carry "error" and no prediction/label), but the file is small and tells a story, so the
demo pipeline has something to find:

  events    0-1799  normal traffic, four models, ~1.5% errors
  events 1800-2399  DRIFT EPISODE for fraud-detector: features.amount ~3x higher and the
                    country mix collapses onto BR and IN (fraud-detector also takes half the
                    traffic here, so a per-model window fills with drifted events)
  events 2500-2649  ERROR BURST for churn-predictor: ~30% ERROR lines, latency ~5x
                    (churn-predictor takes half the traffic here)
  events 2650-2999  normal traffic again (alerts should resolve)

Event numbers count JSON events only. Ten junk lines (plain text, empty, whitespace,
invalid UTF-8, truncated JSON, a traceback, logfmt, ...) are inserted between events at
fixed places, so the file has 3,010 lines and the demo shows `_parse_failure` handling.

The same seed always gives byte-identical output; the committed file is this script's
output with the defaults, so regenerate it rather than editing it by hand.

Usage: tools/gen_sample_logs.py [OUT]     (default samples/model_logs.jsonl, '-' = stdout)
"""
import argparse
import collections
import datetime as _dt
import json
import os
import random
import sys

SEED = 20261124
EVENTS = 3000
START = "2026-11-24T10:00:00"

# Models, countries, channels, error messages and the error rate: the benchmark generator's own,
# so the demo's logs have exactly the benchmark's shape.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from gen_model_logs import CHANNELS, COUNTRIES, ERROR_RATE, ERRORS, MODELS  # noqa: E402

# The two episodes, as half-open ranges of event numbers.
DRIFT = range(1800, 2400)          # fraud-detector
DRIFT_MODEL = "fraud-detector"
DRIFT_AMOUNT_FACTOR = 3.0
DRIFT_COUNTRIES = ["BR", "IN"]     # 85% of drifted events come from these
BURST = range(2500, 2650)          # churn-predictor
BURST_MODEL = "churn-predictor"
BURST_ERROR_RATE = 0.30
BURST_LATENCY_FACTOR = 5.0
EPISODE_SHARE = 0.5                # share of traffic the affected model takes in its episode

# Junk lines, inserted *before* the event with the given number. Bytes, because some of
# them are not valid UTF-8 on purpose. The truncated one is filled in from a real event.
JUNK = {
    150: b"WARNING: model_server: feature store slow, serving from cache",
    420: b"",
    777: b"\xff\xfe model_server \xc3\x28 invalid utf-8 \x80\x81 bytes",
    1024: None,  # truncated JSON: the first 70 bytes of the next event
    1500: b"Traceback (most recent call last):",
    1501: b'  File "serve.py", line 42, in predict',
    2000: b"   \t  ",
    2222: b'level=warn msg="gpu temperature high" temp_c=87',
    2600: b'{"ts":"2026-11-24T10:00:00.000Z","level":"INFO"} trailing garbage',
    2900: b"{",
}


def make_event(rnd, i, ts):
    """One log record for event number i, honouring the drift and burst episodes."""
    return make_record(rnd, ts, "drift" if i in DRIFT else "burst" if i in BURST else None)


def make_record(rnd, ts, episode=None):
    """One log record during `episode`: None (normal traffic), "drift" (fraud-detector's inputs
    shift) or "burst" (churn-predictor errors and slows down). deploy/writer/write_model_logs.py,
    the docker-compose stack's log writer, makes its episodes with this too."""
    in_drift, in_burst = episode == "drift", episode == "burst"
    if (in_drift or in_burst) and rnd.random() < EPISODE_SHARE:
        name = DRIFT_MODEL if in_drift else BURST_MODEL
        model = next(m for m in MODELS if m[0] == name)
    else:
        model = MODELS[rnd.randrange(len(MODELS))]
    name, pos, neg = model
    rid = "%08x-%04x-4%03x-%04x-%012x" % (
        rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12),
        0x8000 | rnd.getrandbits(14), rnd.getrandbits(48))
    drifted = in_drift and name == DRIFT_MODEL
    amount = rnd.lognormvariate(4.0, 1.2) * (DRIFT_AMOUNT_FACTOR if drifted else 1.0)
    if drifted and rnd.random() < 0.85:
        country = DRIFT_COUNTRIES[rnd.randrange(len(DRIFT_COUNTRIES))]
    else:
        country = COUNTRIES[rnd.randrange(len(COUNTRIES))]
    features = {
        "amount": round(amount, 2),
        "age": rnd.randint(18, 90),
        "country": country,
        "channel": CHANNELS[rnd.randrange(len(CHANNELS))],
    }
    bursting = in_burst and name == BURST_MODEL
    slow = BURST_LATENCY_FACTOR if bursting else 1.0
    if rnd.random() < (BURST_ERROR_RATE if bursting else ERROR_RATE):
        return {
            "ts": ts, "level": "ERROR", "logger": "model_server",
            "msg": "prediction failed", "request_id": rid, "model": name,
            "features": features,
            "error": ERRORS[rnd.randrange(len(ERRORS))],
            "latency_ms": round(rnd.uniform(50.0, 400.0) * slow, 1),
        }
    p = round(rnd.random(), 4)
    if drifted:
        # the model reacts to the shifted inputs: more high scores
        p = round(min(1.0, p * 0.5 + 0.45), 4)
    return {
        "ts": ts, "level": "INFO", "logger": "model_server",
        "msg": "prediction", "request_id": rid, "model": name,
        "features": features,
        "prediction": p, "label": pos if p >= 0.5 else neg,
        "latency_ms": round((rnd.gammavariate(2.0, 4.0) + 1.0) * slow, 1),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="samples/model_logs.jsonl",
                    help="output path, '-' for stdout (default: %(default)s)")
    args = ap.parse_args(argv)

    rnd = random.Random(SEED)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
    now_ms = int(_dt.datetime.fromisoformat(START).replace(tzinfo=_dt.timezone.utc).timestamp() * 1000)
    lines = []
    stats = collections.Counter()
    for i in range(EVENTS):
        # ~10 requests a second, so the file spans about five minutes of serving
        now_ms += rnd.randint(50, 150)
        sec, ms = divmod(now_ms, 1000)
        ts = "%s.%03dZ" % (_dt.datetime.fromtimestamp(sec, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), ms)
        rec = make_event(rnd, i, ts)
        line = dumps(rec).encode("ascii")
        if i in JUNK:
            lines.append(JUNK[i] if JUNK[i] is not None else line[:70])
        lines.append(line)
        stats[rec["model"]] += 1
        stats["ERROR"] += rec["level"] == "ERROR"
        if i in DRIFT and rec["model"] == DRIFT_MODEL:
            stats["drift episode events"] += 1
        if i in BURST and rec["model"] == BURST_MODEL:
            stats["burst episode events"] += 1
            stats["burst episode ERROR"] += rec["level"] == "ERROR"

    data = b"\n".join(lines) + b"\n"
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.out, "wb") as f:
            f.write(data)
    print("wrote %d lines (%d events, %d junk), %d bytes to %s" % (
        len(lines), EVENTS, len(JUNK), len(data), args.out), file=sys.stderr)
    for k, v in sorted(stats.items()):
        print("  %-22s %d" % (k, v), file=sys.stderr)


if __name__ == "__main__":
    main()
