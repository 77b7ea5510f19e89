#!/usr/bin/env python3
"""The Python reference for `driftwood baseline` in bench/drift.sh: the same profile made the
usual way, json.loads per line and numpy for the quantiles.

  baseline_reference.py --features a,b,c [--bins 10] FILE > baseline.json

Numeric features (values mostly numbers): the bins-1 inner quantile edges
(numpy.quantile, default 'linear' method, duplicates merged with numpy.unique), the share of
values per bin (numpy.searchsorted side='left', i.e. bins (-inf, e1], (e1, e2], ...),
count, mean, std, min, max. Categorical features: the shares of the 20 most frequent values
and __other__. The output has driftwood's baseline shape (version 1), so the two can be
compared: bench/drift.sh checks that the edges are identical.
"""
import argparse
import collections
import json
import sys

import numpy as np


def get(obj, path):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--bins", type=int, default=10)
    ap.add_argument("file")
    a = ap.parse_args()
    names = a.features.split(",")
    paths = [n.split(".") for n in names]
    numbers = {n: [] for n in names}
    others = {n: collections.Counter() for n in names}
    lines = 0
    with open(a.file, "rb") as f:
        for line in f:
            lines += 1
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for name, path in zip(names, paths):
                v = get(event, path)
                if isinstance(v, bool):
                    others[name]["true" if v else "false"] += 1
                elif isinstance(v, (int, float)):
                    numbers[name].append(v)
                elif isinstance(v, str):
                    others[name][v] += 1
    features = {}
    for name in names:
        x = np.array(numbers[name], dtype=float)
        n_other = sum(others[name].values())
        if len(x) and len(x) >= n_other:
            edges = np.unique(np.quantile(x, np.arange(1, a.bins) / a.bins))
            counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
            features[name] = {
                "type": "numeric", "count": int(len(x)), "invalid": n_other,
                "mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max()),
                "edges": [float(e) for e in edges], "probabilities": [float(c) / len(x) for c in counts],
            }
        else:
            total = n_other + len(x)
            top = sorted(others[name].items(), key=lambda kv: (-kv[1], kv[0]))[:20]
            probabilities = {k: c / total for k, c in top}
            probabilities["__other__"] = (total - sum(c for _, c in top)) / total
            features[name] = {"type": "categorical", "count": total, "probabilities": probabilities}
    json.dump({"version": 1, "created_by": "baseline_reference.py", "lines": lines, "bins": a.bins,
               "features": features}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
