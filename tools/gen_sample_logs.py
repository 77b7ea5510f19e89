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

Ground truth for fraud-detector arrives later as lines of its own,
{"ts", "msg": "ground_truth", "request_id", "model", "actual": 1 | 0} (the `label` of a
prediction is the predicted class's name, not ground truth; `model` is the labelled
prediction's, so an agent keying Kafka records by model puts a label in its prediction's
partition), 5-60 s after the prediction; one in ten comes 2.5-4 minutes late and one in ten
never. They are drawn from a generator of their own and inserted by time, so the prediction
lines are the same as without them, except:

  events  600-1499  SELECTION-RATE DIVERGENCE: fraud-detector scores every "pos" channel
                    request high (p >= 0.8, predicted "fraud"): that group's selection rate
                    moves away from the others' (demographic parity difference over
                    features.channel)
  during DRIFT      ground truth stays at the base rate while the drifted model predicts fraud
                    for most requests: its F1 falls once those labels arrive

Event numbers count JSON events only. Ten junk lines (plain text, empty, whitespace,
invalid UTF-8, truncated JSON, a traceback, logfmt, ...) are inserted between events at
fixed places, so the file has 3,010 lines besides the 818 of ground truth, and the demo shows
`_parse_failure` handling.

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

# Ground truth (fraud-detector only), from a generator of its own.
LABEL_MODEL = "fraud-detector"
LABEL_SEED = SEED + 1
LABEL_DELAY_MS = (5_000, 60_000)
LATE_SHARE, LATE_DELAY_MS = 0.10, (150_000, 240_000)
NEVER_SHARE = 0.10
DIVERGE = range(600, 1500)
DIVERGE_CHANNEL = "pos"

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


def ground_truth(rnd, now_ms, rec, episode=None):
    """The label line of a fraud-detector prediction made at `now_ms` during `episode` (None,
    "drift" or "diverge"): (ms, ts, line), or None (never labelled). Fraud is likelier the
    higher the score, except during the drift episode, where the shifted inputs do not make
    fraud any more common than usual, and for the diverging channel's requests.
    deploy/writer/write_model_logs.py labels its predictions with this too."""
    r = rnd.random()
    if r < NEVER_SHARE:
        return None
    delay = rnd.randint(*LATE_DELAY_MS) if r < NEVER_SHARE + LATE_SHARE else rnd.randint(*LABEL_DELAY_MS)
    p = rec["prediction"]
    if episode == "drift":
        actual = int(rnd.random() < 0.3)
    elif episode == "diverge" and rec["features"]["channel"] == DIVERGE_CHANNEL:
        actual = int(rnd.random() < 0.3)
    else:
        actual = int(rnd.random() < (0.92 if p >= 0.5 else 0.06))
    at = now_ms + delay
    sec, ms = divmod(at, 1000)
    ts = "%s.%03dZ" % (_dt.datetime.fromtimestamp(sec, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), ms)
    line = json.JSONEncoder(separators=(",", ":")).encode(
        {"ts": ts, "msg": "ground_truth", "request_id": rec["request_id"], "model": rec["model"], "actual": actual})
    return (at, ts, line.encode("ascii"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="samples/model_logs.jsonl",
                    help="output path, '-' for stdout (default: %(default)s)")
    args = ap.parse_args(argv)

    rnd = random.Random(SEED)
    truth_rnd = random.Random(LABEL_SEED)
    labels = []  # (ms, line): ground truth, inserted by time below
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
        if rec["model"] == LABEL_MODEL and rec["level"] == "INFO":
            if i in DIVERGE and rec["features"]["channel"] == DIVERGE_CHANNEL:
                rec["prediction"] = round(min(1.0, rec["prediction"] * 0.2 + 0.8), 4)
                rec["label"] = "fraud"
                stats["divergence events"] += 1
            episode = "drift" if i in DRIFT else "diverge" if i in DIVERGE else None
            labels.append(ground_truth(truth_rnd, now_ms, rec, episode))
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

    # Each ground-truth line goes before the first line written after its time.
    times = []
    for line in lines:
        try:
            times.append(json.loads(line)["ts"])
        except ValueError:
            times.append(None)
    merged, k = [], 0
    labels = sorted((l for l in labels if l is not None), key=lambda x: x[0])
    for line, ts in zip(lines, times):
        while k < len(labels) and ts is not None and labels[k][1] <= ts:
            merged.append(labels[k][2])
            k += 1
        merged.append(line)
    merged += [l[2] for l in labels[k:]]
    stats["ground truth lines"] = len(labels)
    lines = merged
    data = b"\n".join(lines) + b"\n"
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.out, "wb") as f:
            f.write(data)
    print("wrote %d lines (%d events, %d junk, %d ground truth), %d bytes to %s" % (
        len(lines), EVENTS, len(JUNK), stats["ground truth lines"], len(data), args.out), file=sys.stderr)
    for k, v in sorted(stats.items()):
        print("  %-22s %d" % (k, v), file=sys.stderr)


if __name__ == "__main__":
    main()
