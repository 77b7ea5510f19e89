#!/usr/bin/env python3
"""The reference for driftwood's `evaluate` filter: scikit-learn and Fairlearn on the same windows.

  reference.py gen TASK SEED OUT.jsonl      writes a prediction/label stream (shuffled, late,
                                            missing, duplicate and broken labels)
  reference.py check CONFIG.json IN.jsonl OUT.jsonl
                                            replays the join as docs/stages/evaluate.md defines it
                                            (a dict per list, in arrival order), recomputes every
                                            report driftwood wrote with sklearn.metrics and
                                            fairlearn.metrics, and prints a JSON summary.
"""
import collections
import datetime as dt
import json
import math
import random
import sys

import numpy as np
from sklearn.metrics import (accuracy_score, f1_score, mean_absolute_error,
                             mean_absolute_percentage_error, mean_squared_error,
                             precision_score, recall_score, roc_auc_score)
from fairlearn.metrics import (MetricFrame, demographic_parity_difference, demographic_parity_ratio,
                               equal_opportunity_difference, equalized_odds_difference,
                               false_positive_rate, selection_rate, true_positive_rate)

T0 = dt.datetime(2026, 11, 24, 10, 0, 0, tzinfo=dt.timezone.utc)


def iso(ms):
    return (T0 + dt.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def gen(task, seed, out):
    rnd = random.Random(seed)
    lines = []  # (order key, line)
    t = 0
    for i in range(6000):
        t += rnd.randint(0, 400)
        rid = "r%05d" % i
        model = "m1" if rnd.random() < 0.7 else "m2"
        pred = {"ts": iso(t), "request_id": rid, "model": model}
        if task == "binary":
            gender = rnd.choices(["a", "b", "c"], [0.6, 0.37, 0.03])[0]
            pred["features"] = {"gender": gender}
            # A stretch where the model gets worse, and one where group b is selected more.
            truth = 1 if rnd.random() < 0.4 else 0
            noise = 0.45 if 2500 <= i < 3500 else 0.25
            score = min(1.0, max(0.0, truth * 0.5 + 0.25 + rnd.uniform(-noise, noise)))
            if 4000 <= i < 4800 and gender == "b":
                score = min(1.0, score + 0.3)
            score = round(score, 4)
            r = rnd.random()
            pred["score"] = (bool(score >= 0.5) if r < 0.02 else "abc" if r < 0.03 else score)
            label = rnd.choice([truth, truth, truth, bool(truth), str(truth), float(truth)])
            if rnd.random() < 0.01:
                label = "maybe"
            label_event = {"request_id": rid, "actual": label}
        elif task == "multiclass":
            classes = ["cat", "dog", "bird", "fish"]
            truth = rnd.choice(classes)
            predicted = truth if rnd.random() < (0.5 if 2500 <= i < 3500 else 0.8) else rnd.choice(classes)
            pred["cls"] = predicted if rnd.random() > 0.01 else None
            label_event = {"request_id": rid, "actual_cls": truth}
        else:
            truth = round(rnd.uniform(1, 100), 3) if rnd.random() > 0.01 else 0
            pred["y"] = round(truth + rnd.gauss(0, 8 if 2500 <= i < 3500 else 2), 3) if rnd.random() > 0.01 else "n/a"
            label_event = {"request_id": rid, "y_true": truth}
        if rnd.random() < 0.01:
            del pred["request_id"]
        lines.append((t + rnd.randint(0, 3000), pred))
        r = rnd.random()
        if r < 0.12:
            continue  # never labelled
        delay = (-rnd.randint(100, 30000) if r < 0.2 else rnd.randint(400_000, 900_000) if r < 0.24
                 else int(rnd.expovariate(1 / 20000)))
        lt = max(0, t + delay)
        lines.append((lt + rnd.randint(0, 3000), dict(ts=iso(lt), **label_event)))
        if rnd.random() < 0.03:  # the same label again, later
            lines.append((lt + rnd.randint(1000, 60000), dict(ts=iso(lt + 1), **label_event)))
        if rnd.random() < 0.005:  # a label for an id never predicted
            lines.append((lt, dict(label_event, ts=iso(lt), request_id="x%05d" % i)))
    lines.sort(key=lambda x: x[0])
    with open(out, "w") as f:
        for _, e in lines:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


def ms(ts):
    return int(round(dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000))


class Join:
    """pending and matched: insertion-ordered dicts id -> entry, as the filter's two lists."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.max, self.ttl = cfg["pending_max"], cfg["ttl_ms"]
        self.pending, self.matched = collections.OrderedDict(), collections.OrderedDict()
        self.now = None
        self.counts = collections.Counter()

    def expired(self, e):
        return self.now is not None and self.now - e["time"] > self.ttl

    def advance(self, t, groups):
        self.now = t if self.now is None else max(self.now, t)
        while self.pending and self.expired(next(iter(self.pending.values()))):
            _, e = self.pending.popitem(last=False)
            self.lose("expired", e, groups)
        while self.matched and self.expired(next(iter(self.matched.values()))):
            self.matched.popitem(last=False)

    def lose(self, reason, e, groups):
        self.counts[reason] += 1
        if reason == "expired" and e["kind"] == "prediction":
            groups[e["group"]]["expired"] += 1

    def find(self, i, groups):
        for store in (self.pending, self.matched):
            if i in store:
                e = store[i]
                if self.expired(e):
                    del store[i]
                    if store is self.pending:
                        self.lose("expired", e, groups)
                    return None
                return e
        return None

    def add(self, i, e, groups):
        if len(self.pending) >= self.max:
            _, old = self.pending.popitem(last=False)
            self.lose("evicted", old, groups)
        self.pending[i] = e

    def mark(self, i, t):
        self.pending.pop(i, None)
        if len(self.matched) >= self.max:
            self.matched.popitem(last=False)
        self.matched[i] = {"kind": "matched", "time": t}


def class_key(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return str(int(v)) if float(v).is_integer() else repr(v)
    if isinstance(v, str):
        return v
    return None


def truth_of(cfg, v):
    task = cfg["task"]
    if task == "binary":
        k = class_key(v)
        return 1 if k == "1" else 0 if k == "0" else None
    if task == "multiclass":
        return class_key(v)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def prediction_of(cfg, v):
    task = cfg["task"]
    if task == "binary":
        if isinstance(v, bool):
            return (int(v), float(v))
        if isinstance(v, (int, float)):
            return (1 if v >= cfg["cutoff"] else 0, float(v))
        return None
    if task == "multiclass":
        k = class_key(v)
        return None if k is None else (k, 0.0)
    return (float(v), 0.0) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def get(e, path):
    for p in path.split("."):
        if not isinstance(e, dict) or p not in e:
            return None, False
        e = e[p]
    return e, True


def expected_metrics(cfg, window):
    y = [p["truth"] for p in window]
    yhat = [p["predicted"] for p in window]
    task = cfg["task"]
    out = {}
    if task == "binary":
        out["accuracy"] = accuracy_score(y, yhat)
        out["precision"] = precision_score(y, yhat, zero_division=0)
        out["recall"] = recall_score(y, yhat, zero_division=0)
        out["f1"] = f1_score(y, yhat, zero_division=0)
        if len(set(y)) == 2:
            out["auc"] = roc_auc_score(y, [p["score"] for p in window])
    elif task == "multiclass":
        out["accuracy"] = accuracy_score(y, yhat)
        out["macro_f1"] = f1_score(y, yhat, average="macro", zero_division=0)
    else:
        out["mae"] = mean_absolute_error(y, yhat)
        out["rmse"] = math.sqrt(mean_squared_error(y, yhat))
        out["mape"] = mean_absolute_percentage_error(y, yhat)
    return out


def expected_fairness(cfg, window):
    values = collections.Counter(p["attribute"] for p in window if p["attribute"] is not None)
    kept = {v for v, n in values.items() if n >= cfg["min_group_size"]}
    excluded = {v: n for v, n in values.items() if n < cfg["min_group_size"]}
    rows = [p for p in window if p["attribute"] in kept]
    out = {"groups": {}, "excluded": excluded}
    if not rows:
        return out
    y = np.array([p["truth"] for p in rows])
    yhat = np.array([p["predicted"] for p in rows])
    s = np.array([p["attribute"] for p in rows])
    frame = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                                 "fpr": false_positive_rate},
                        y_true=y, y_pred=yhat, sensitive_features=s)
    for v, row in frame.by_group.iterrows():
        out["groups"][v] = {"n": int(values[v]), "selection_rate": row["selection_rate"],
                            "tpr": row["tpr"], "fpr": row["fpr"]}
    kw = dict(y_true=y, y_pred=yhat, sensitive_features=s, method="between_groups")
    out["demographic_parity_difference"] = demographic_parity_difference(**kw)
    with np.errstate(all="ignore"):
        di = demographic_parity_ratio(**kw)
    if not math.isnan(di):
        out["disparate_impact"] = di
    out["equalized_odds_difference"] = equalized_odds_difference(**kw)
    out["equal_opportunity_difference"] = equal_opportunity_difference(**kw)
    return out


def check(cfg_path, in_path, out_path):
    cfg = json.load(open(cfg_path))
    events = [json.loads(l) for l in open(in_path) if l.strip()]
    outputs = [json.loads(l) for l in open(out_path) if l.strip()]
    reports = [o for o in outputs if o.get("event", {}).get("dataset") == "driftwood.evaluate"]
    annotated = [o for o in outputs if "evaluation" in o and o.get("event", {}).get("kind") is None]
    join = Join(cfg)
    groups = collections.defaultdict(lambda: {"pairs": [], "count": 0, "expired": 0})
    expected_reports, expected_annotations = [], []
    W, every = cfg["window"], cfg["report_every"]

    def complete(group, pair):
        g = groups[group]
        g["count"] += 1
        g["pairs"] = (g["pairs"] + [pair])[-W:]
        if len(g["pairs"]) == W and every > 0 and g["count"] % every == 0:
            r = {"group": group, "pairs": g["count"], "metrics": expected_metrics(cfg, g["pairs"]),
                 "expired": g["expired"],
                 "lag": list(np.quantile([p["lag"] for p in g["pairs"]], [0.5, 0.95]))}
            if cfg.get("attribute"):
                r["fairness"] = expected_fairness(cfg, g["pairs"])
            expected_reports.append(r)

    for e in events:
        t = ms(e["ts"])
        join.advance(t, groups)
        i, has_id = get(e, "request_id")
        label, is_label = get(e, cfg["label"])
        if is_label:
            if not has_id or i is None:
                join.counts["no_id"] += 1
                continue
            truth = truth_of(cfg, label)
            if truth is None:
                join.counts["invalid_label"] += 1
                continue
            other = join.find(i, groups)
            if other is None:
                join.add(i, {"kind": "label", "time": t, "truth": truth}, groups)
            elif other["kind"] != "prediction":
                join.counts["duplicate_label"] += 1
            else:
                join.mark(i, t)
                pair = dict(other, truth=truth, lag=(t - other["time"]) / 1000)
                expected_annotations.append((i, pair["predicted"] == truth))
                complete(other["group"], pair)
            continue
        value, is_prediction = get(e, cfg["prediction"])
        if not is_prediction:
            continue
        if not has_id or i is None:
            join.counts["no_id"] += 1
            continue
        group, has_group = get(e, "model")
        p = prediction_of(cfg, value)
        if p is None:
            join.counts["invalid_prediction"] += 1
            continue
        attribute = get(e, cfg["attribute"])[0] if cfg.get("attribute") else None
        entry = {"kind": "prediction", "time": t, "group": group, "predicted": p[0], "score": p[1],
                 "attribute": attribute}
        other = join.find(i, groups)
        if other is None:
            join.add(i, entry, groups)
        elif other["kind"] != "label":
            join.counts["duplicate_prediction"] += 1
        else:
            join.mark(i, t)
            complete(group, dict(entry, truth=other["truth"], lag=(other["time"] - t) / 1000))

    mismatches = []

    def close(name, got, want, tol=1e-9):
        if got is None or want is None or abs(got - want) > tol * max(1.0, abs(want)):
            mismatches.append("%s: driftwood %r, reference %r" % (name, got, want))

    if len(reports) != len(expected_reports):
        mismatches.append("reports: driftwood %d, reference %d" % (len(reports), len(expected_reports)))
    for got, want in zip(reports, expected_reports):
        ev = got["evaluation"]
        where = "%s@%d" % (want["group"], want["pairs"])
        if (ev.get("group"), ev["pairs"], ev["window"]) != (want["group"], want["pairs"], W):
            mismatches.append("%s: report is for %s@%d" % (where, ev.get("group"), ev["pairs"]))
            continue
        if set(ev["metrics"]) != set(want["metrics"]):
            mismatches.append("%s: metrics %s, reference %s" % (where, sorted(ev["metrics"]), sorted(want["metrics"])))
        for k, v in want["metrics"].items():
            close("%s %s" % (where, k), ev["metrics"].get(k), v)
        labels = ev["labels"]
        if labels["matched"] != want["pairs"] or labels["expired"] != want["expired"]:
            mismatches.append("%s: labels %s, reference matched %d expired %d" % (
                where, labels, want["pairs"], want["expired"]))
        close(where + " lag p50", labels["lag_seconds"]["p50"], want["lag"][0], 1e-3)
        close(where + " lag p95", labels["lag_seconds"]["p95"], want["lag"][1], 1e-3)
        if "fairness" in want:
            f, wf = ev["fairness"], want["fairness"]
            if set(f["groups"]) != set(wf["groups"]) or f["excluded"] != wf["excluded"]:
                mismatches.append("%s: fairness values %s excluded %s, reference %s %s" % (
                    where, sorted(f["groups"]), f["excluded"], sorted(wf["groups"]), wf["excluded"]))
            for v, row in wf["groups"].items():
                for k, x in row.items():
                    close("%s %s[%s]" % (where, k, v), f["groups"].get(v, {}).get(k), x)
            for k in ["demographic_parity_difference", "disparate_impact", "equalized_odds_difference",
                      "equal_opportunity_difference"]:
                if k in wf:
                    close("%s %s" % (where, k), f.get(k), wf[k])
                elif k in f:
                    mismatches.append("%s: %s is %r, reference: undefined" % (where, k, f[k]))
    got_annotations = [(o["request_id"], o["evaluation"].get("correct")) for o in annotated]
    if cfg["task"] == "regression":
        expected_annotations = [(i, None) for i, _ in expected_annotations]
    if got_annotations != expected_annotations:
        mismatches.append("annotations: driftwood %d, reference %d; first difference %s" % (
            len(got_annotations), len(expected_annotations),
            next(((a, b) for a, b in zip(got_annotations, expected_annotations) if a != b), None)))
    print(json.dumps({"reports": len(reports), "annotations": len(got_annotations),
                      "pairs": {g: v["count"] for g, v in groups.items()}, "counts": join.counts,
                      "mismatches": mismatches[:20], "mismatch_count": len(mismatches)}))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4])
