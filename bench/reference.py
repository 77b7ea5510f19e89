#!/usr/bin/env python3
"""The Python reference for bench/run.sh: the bench workload done with json.loads / json.dumps.

  reference.py REGISTRY.yml < model_logs.jsonl > out.jsonl

Per line: parse, add "model_version" looked up by "model" in the registry ("unknown" if
absent), write it back compact. This is the "python3 W1" yardstick of the shared
PERFORMANCE.md / peers-measured.md (there with a fixed version), so driftwood's ratio to it
is comparable across machines. Driftwood does slightly more per event (it also adds
@timestamp, input.type and host.name), so the ratio errs in Python's favour.
"""
import json
import sys


def load_registry(path):
    """Read a flat YAML map `name: "version"` (the samples/models.yml shape; stdlib has no YAML)."""
    registry = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            name, _, version = line.partition(":")
            registry[name.strip().strip("\"'")] = version.strip().strip("\"'")
    return registry


def main():
    registry = load_registry(sys.argv[1])
    loads = json.loads
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    sys.stdout.reconfigure(encoding="utf-8")  # whatever the locale says
    write = sys.stdout.write
    for line in sys.stdin.buffer:
        event = loads(line)
        event["model_version"] = registry.get(event.get("model"), "unknown")
        write(dumps(event))
        write("\n")


if __name__ == "__main__":
    main()
