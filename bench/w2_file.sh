#!/usr/bin/env bash
# W2 through the file input, against Fluent Bit in the same run:
# a JSON-lines file read from its beginning → parse json (dropping the raw line) → add
# model_version → gzip Elasticsearch _bulk requests to bench/es_null_sink.c on 127.0.0.1.
# Both shippers are timed the same way by run_peer.py (a copy of the peers' harness): from spawn
# until the sink has acknowledged every document; CPU and peak RSS from /proc at that moment;
# the sink's CPU apart. The sink is started afresh for every run, the input is read into the
# page cache before every run, and the shippers alternate. Fluent Bit runs the peers' W2
# configuration (bench/fluent-bit/w2.conf: tail + json parser + record_modifier + es with
# gzip); driftwood the peers' driftwood-w2.yml, repeated below (all defaults).
#
#   bench/w2_file.sh [LINES]        default 3,000,000 (~830 MiB): runs of seconds, not fractions
# Env: BENCH_DIR (default ${TMPDIR:-/tmp}/driftwood-bench), DRIFTWOOD_BIN, REPS (default 3),
#      FLUENT_BIT (a fluent-bit binary; default the one on PATH; without one, driftwood alone).
# Fluent Bit is not packaged for Debian: build it from source (cmake, flex, bison, libyaml,
# libssl; the peers used 5.1.1 with FLB_OUT_ES, FLB_IN_TAIL, FLB_FILTER_RECORD_MODIFIER on).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LINES=${1:-3000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-3}
FLUENT_BIT=${FLUENT_BIT:-$(command -v fluent-bit || true)}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/w2_file.sh [LINES]" >&2; exit 2; }
say() { echo "== $*" >&2; }
. "$HERE/lib.sh"
mkdir -p "$WORK"

build_driftwood
core_link_probe
SINK_BIN=$WORK/es_null_sink
gcc -O2 -pthread -o "$SINK_BIN" "$HERE/es_null_sink.c" -lz
model_log_input

RESULTS=$WORK/w2-file-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
SINK=
stop_sink() { if [ -n "$SINK" ]; then kill "$SINK" 2> /dev/null || true; wait "$SINK" 2> /dev/null || true; SINK=; fi; }
trap stop_sink EXIT

# One timed run of a shipper against a fresh sink: run_peer.py's JSON line goes to $RESULTS,
# with the core link probe before and after it added (docs/benchmarks.md says why).
run_one() {
  local name=$1; shift
  local port
  port=$(free_port)
  "$SINK_BIN" --port "$port" 2> "$WORK/sink-$name.log" &
  SINK=$!
  wait_for_port "$port" || say "the sink did not start (log: $WORK/sink-$name.log)"
  cat "$INPUT" > /dev/null
  local before after
  before=$([ -n "${BENCH_CORE_LINK:-}" ] && "$BENCH_CORE_LINK" || echo null)
  python3 "$HERE/run_peer.py" --name "$name" --mode es --sink "http://127.0.0.1:$port" --sink-pid "$SINK" \
    --expect "$LINES" --input "$INPUT" --results "$WORK/w2-run.jsonl" --log "$WORK/$name.log" \
    --env "BENCH_ES_PORT=$port" --env "BENCH_CONF_DIR=$HERE/fluent-bit" --env "BENCH_INPUT=$INPUT" \
    -- "$@" > /dev/null || say "$name run failed (log: $WORK/$name.log)"
  after=$([ -n "${BENCH_CORE_LINK:-}" ] && "$BENCH_CORE_LINK" || echo null)
  stop_sink
  if [ -s "$WORK/w2-run.jsonl" ]; then
    python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if sys.argv[2] != "null": r["core_link_ns"] = [float(sys.argv[2]), float(sys.argv[3])]
print(json.dumps(r))' "$WORK/w2-run.jsonl" "$before" "$after" >> "$RESULTS"
    rm -f "$WORK/w2-run.jsonl"
  fi
}

d="$WORK/driftwood-w2"
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  if [ -n "$FLUENT_BIT" ] && [ -x "$FLUENT_BIT" ]; then
    run_one fluentbit "$FLUENT_BIT" -c "$HERE/fluent-bit/w2.conf"
  else
    say "no Fluent Bit (set FLUENT_BIT to a fluent-bit binary): driftwood alone"
  fi
  rm -rf "$d"; mkdir -p "$d"
  peers_pipeline "$d/pipeline.yml" "$d" driftwood-w2.yml <<YAML
  - type: elasticsearch
    hosts: ["http://127.0.0.1:\${BENCH_ES_PORT}"]
    index: bench
    compression: gzip
YAML
  run_one driftwood "$DW" run "$d/pipeline.yml"
done

echo "## W2 through the file input: $LINES lines, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores; load average before the runs $LOAD"
echo "- driftwood $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
[ -n "$FLUENT_BIT" ] && echo "- Fluent Bit $FLUENT_BIT ($("$FLUENT_BIT" --version 2> /dev/null | head -1))"
echo "- $REPS repetition(s), alternating; medians; results: $RESULTS"
echo
python3 - "$RESULTS" "$HERE" <<'PY'
import json, statistics, sys
sys.path.insert(0, sys.argv[2])
import core_link_report
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(rs, k):
    v = [r.get(k) for r in rs if r.get(k) is not None]
    return statistics.median(v) if v else None
print("| shipper | runs | events/s | wall s | CPU s | sink CPU s | peak RSS MiB | every document acknowledged once |")
print("|---|---|---|---|---|---|---|---|")
eps = {}
for name in ["fluentbit", "driftwood"]:
    rs = [r for r in runs if r["name"] == name]
    if not rs:
        continue
    eps[name] = med(rs, "events_per_s")
    f = lambda v, p=1: "-" if v is None else ("%.*f" % (p, v))
    ok = all(r.get("complete") and r.get("sink_docs_after_stop", r.get("expected")) == r.get("expected") for r in rs)
    print(f"| {name} | {len(rs)} | {f(eps[name], 0)} | {f(med(rs, 'wall_s'), 2)} | {f(med(rs, 'cpu_s'), 2)} | "
          f"{f(med(rs, 'sink_cpu_s'), 2)} | {f(med(rs, 'peak_rss_MiB'))} | {ok} |")
print()
if eps.get("driftwood") and eps.get("fluentbit"):
    print("driftwood / Fluent Bit: **%.2f×** events/s (target: at least 4×)" % (eps["driftwood"] / eps["fluentbit"]))
    print()
print(core_link_report.summary(runs))
fast = [r for r in runs if core_link_report.fast(r)]
by = {n: med([r for r in fast if r["name"] == n], "events_per_s") for n in ("driftwood", "fluentbit")}
if by["driftwood"] and by["fluentbit"]:
    print("- driftwood / Fluent Bit over the runs in the fast state only: **%.2f×**" % (by["driftwood"] / by["fluentbit"]))
PY
