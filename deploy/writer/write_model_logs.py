#!/usr/bin/env python3
"""Model-server log writer for the docker-compose stack (stdlib only).

Appends JSON prediction-log lines, one file per model (<dir>/<model>.log), at a steady rate, the
way a model server would, so driftwood has something to tail. The lines have the shape and the
distributions of bench/gen_model_logs.py (the same models, features and ~1.5% ERROR lines), and
samples/baseline.json describes that normal traffic. Every --period seconds the traffic goes
through the two episodes of tools/gen_sample_logs.py (made by its make_record):

  0%-30% of the period   normal traffic
  30%-60%                DRIFT: fraud-detector's amounts x3, its countries collapse onto BR and IN,
                         more high scores; fraud-detector takes half the traffic
  60%-70%                normal traffic (the drift alerts resolve)
  70%-80%                BURST: churn-predictor ~30% ERROR lines and 5x latency; it takes half
                         the traffic
  80%-100%               normal traffic (the error-rate and latency alerts resolve)

fraud-detector's predictions get their ground truth later, as a labelling system would log it,
in <dir>/ground_truth.log ({"ts", "msg": "ground_truth", "request_id", "model", "actual"}; made by
tools/gen_sample_logs.py's ground_truth): most 5-60 s after the prediction, one in ten 2.5-4
minutes late, one in ten never. During the drift episode fraud is no commoner than usual while
the model scores most requests high, so its F1 falls and `evaluate` alerts.

About one line in 500 is plain text (a warning without JSON), which driftwood tags
_parse_failure. A file that would grow past --max-bytes is renamed <model>.log.1 (replacing the
previous one) and a new <model>.log begun: rename rotation, as logrotate does it.

  write_model_logs.py --dir /var/log/model --rate 25          # forever, in real time (the stack)
  write_model_logs.py --dir /tmp/logs --fast --lines 5000     # as fast as possible, virtual clock
"""
import argparse
import datetime as _dt
import json
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository's tools/ and bench/ (mounted beside deploy/ in the container): one definition of
# the models, the features, the errors and what drift and an error burst look like.
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import heapq  # noqa: E402

from gen_sample_logs import LABEL_MODEL, ground_truth, make_record  # noqa: E402
from gen_model_logs import MODELS  # noqa: E402  (gen_sample_logs put bench/ on the path)

# (start, end, episode) as fractions of the period.
SCHEDULE = [
    (0.0, 0.3, None),
    (0.3, 0.6, "drift"),
    (0.6, 0.7, None),
    (0.7, 0.8, "burst"),
    (0.8, 1.0, None),
]
JUNK_SHARE = 0.002
JUNK_LINES = [
    "WARNING: model_server: feature store slow, serving from cache",
    "WARNING: model_server: request queue above 80% of capacity",
]


def episode_at(elapsed, period):
    """The episode (None, "drift" or "burst") at `elapsed` seconds into the run."""
    phase = (elapsed % period) / period
    for start, end, episode in SCHEDULE:
        if start <= phase < end:
            return episode
    return None


def iso_ms(epoch_seconds):
    t = _dt.datetime.fromtimestamp(epoch_seconds, _dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class LogFiles:
    """One append-mode file per model, renamed to <name>.1 when it would pass max_bytes."""

    def __init__(self, directory, max_bytes):
        self.directory = directory
        self.max_bytes = max_bytes
        self.files = {}
        os.makedirs(directory, exist_ok=True)

    def path(self, model):
        return os.path.join(self.directory, model + ".log")

    def write(self, model, line):
        data = (line + "\n").encode("utf-8")
        entry = self.files.get(model)
        if entry is None:
            path = self.path(model)
            entry = [open(path, "ab"), os.path.getsize(path) if os.path.exists(path) else 0]
            self.files[model] = entry
        if entry[1] > 0 and entry[1] + len(data) > self.max_bytes:
            entry[0].close()
            os.replace(self.path(model), self.path(model) + ".1")
            entry[0], entry[1] = open(self.path(model), "ab"), 0
        entry[0].write(data)
        entry[1] += len(data)

    def flush(self):
        for f, _ in self.files.values():
            f.flush()

    def close(self):
        for f, _ in self.files.values():
            f.close()
        self.files.clear()


def parse_size(text):
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
    lower = text.strip().lower()
    for suffix, factor in units.items():
        if lower.endswith(suffix):
            return int(float(lower[: -len(suffix)]) * factor)
    return int(lower)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.environ.get("MODEL_LOG_DIR", "/var/log/model"))
    ap.add_argument("--rate", type=float, default=float(os.environ.get("LINES_PER_SECOND", "25")),
                    help="lines per second, all models together (default %(default)s)")
    ap.add_argument("--period", type=float, default=float(os.environ.get("EPISODE_PERIOD", "600")),
                    help="seconds from one episode cycle to the next (default %(default)s)")
    ap.add_argument("--max-bytes", type=parse_size, default=parse_size(os.environ.get("MAX_BYTES", "64MiB")),
                    help="rotate a model's file before it passes this size (default 64MiB)")
    ap.add_argument("--lines", type=int, default=0, help="stop after this many lines (default: never)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one)")
    ap.add_argument("--fast", action="store_true",
                    help="do not wait: timestamps follow a virtual clock at --rate from --start")
    ap.add_argument("--start", default=None,
                    help="with --fast: time of the first line, ISO 8601 UTC (default: now)")
    args = ap.parse_args(argv)
    if args.rate <= 0 or args.period <= 0:
        ap.error("--rate and --period must be positive")

    # PID 1 in a container ignores SIGTERM unless it installs a handler: stop cleanly instead.
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    rnd = random.Random(args.seed)
    # Labels from a generator of their own, so the predictions are those of a run without them.
    label_rnd = random.Random(None if args.seed is None else args.seed + 1)
    labels = []  # heap of (ms, seq, line): ground truth not yet due
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
    files = LogFiles(args.dir, args.max_bytes)
    if args.start:
        start = _dt.datetime.fromisoformat(args.start).replace(tzinfo=_dt.timezone.utc).timestamp()
    else:
        start = time.time()
    clock_start = time.monotonic()
    names = [m[0] for m in MODELS]
    print("write_model_logs: %s/{%s}.log, %g lines/s, episodes every %gs%s; ground truth in %s" % (
        args.dir, ",".join(names), args.rate, args.period, " (fast)" if args.fast else "",
        files.path("ground_truth")),
        file=sys.stderr, flush=True)

    n = 0
    labelled = 0
    current = "start"
    try:
        while not stopping and (args.lines <= 0 or n < args.lines):
            elapsed = n / args.rate
            if not args.fast:
                delay = clock_start + elapsed - time.monotonic()
                if delay > 0:
                    files.flush()
                    time.sleep(delay)
            episode = episode_at(elapsed, args.period)
            if episode != current:
                current = episode
                print("write_model_logs: %7.1fs %s" % (elapsed, {
                    None: "normal traffic",
                    "drift": "drift episode: fraud-detector's inputs shift",
                    "burst": "error burst: churn-predictor fails and slows down",
                }[episode]), file=sys.stderr, flush=True)
            now = start + elapsed if args.fast else time.time()
            ts = iso_ms(now)
            # Ground truth that is due by now, in the order it comes.
            while labels and labels[0][0] <= now * 1000:
                files.write("ground_truth", heapq.heappop(labels)[2])
                labelled += 1
            if rnd.random() < JUNK_SHARE:
                files.write(names[rnd.randrange(len(names))], ts + " " + JUNK_LINES[rnd.randrange(len(JUNK_LINES))])
            else:
                record = make_record(rnd, ts, episode)
                files.write(record["model"], dumps(record))
                if record["model"] == LABEL_MODEL and record["level"] == "INFO":
                    label = ground_truth(label_rnd, int(now * 1000), record, episode)
                    if label is not None:
                        heapq.heappush(labels, (label[0], n, label[2].decode("ascii")))
            n += 1
        # --fast: the labels still to come are written as they would come, after the last line.
        while args.fast and labels and not stopping:
            files.write("ground_truth", heapq.heappop(labels)[2])
            labelled += 1
    finally:
        files.close()
    print("write_model_logs: wrote %d lines and %d of ground truth" % (n, labelled), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
