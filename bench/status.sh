#!/usr/bin/env bash
# bench/status.sh [LINES] -- what serving the status page costs, measured in one run on one input.
#
# 1. The shared W1 workload (stdin -> parse json (remove_source) -> enrich model_version ->
#    jsonl), three ways, interleaved (the order turns each repetition), on the same input (in
#    the page cache):
#      w1          no metrics.address: no server at all
#      w1-server   metrics.address set: the server, and the status's reading once a second
#      w1-page     the same, and a client doing what a browser reloading the page every second
#                  does: GET / and GET /api/v1/status every second (bench/status_client.py)
#    Target: w1-page within 1% of w1-server's events/s (and of w1's). The ratios come from the
#    medians and, steadier on a shared machine, from each repetition's pair.
# 2. What one refresh costs in CPU time (bench/status_cost.py): driftwood kept up by --serve
#    after W1, then after the demo pipeline (4 models, evaluate, alerts, histograms), answers
#    400 GET /api/v1/status and 400 GET / + /api/v1/status; the CPU beyond its idle rate per
#    refresh, against the CPU W1 spends per second, is the share a refresh a second takes.
# 3. The page's first draw in headless Chromium with 20 models and an hour of history
#    (bench/status_draw.py; skipped without chromium). Target: < 500 ms.
# The Markdown report goes to stdout, progress to stderr. Environment as bench/run.sh
# (BENCH_DIR, DRIFTWOOD_BIN, REPS, TIMEOUT); PORT (default 19790) for the metrics address.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-3000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-5}
TIMEOUT=${TIMEOUT:-900}
PORT=${PORT:-19790}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/status.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"

build_driftwood
model_log_input
cat "$INPUT" > /dev/null

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$WORK/status-results-$STAMP.jsonl
COSTS=$WORK/status-costs-$STAMP.jsonl
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --timeout "$TIMEOUT" "$@"; }

cp "$ROOT/samples/models.yml" "$WORK/models.yml"
for variant in w1 w1-server w1-page; do
  {
    echo "# written by bench/status.sh"
    echo "data_dir: \"$WORK/state-$variant\""
    if [ "$variant" != w1 ]; then echo "metrics: {address: \"127.0.0.1:$PORT\"}"; fi
    echo "inputs: [{type: stdin}]"
    echo "filters:"
    echo "  - {type: parse, format: json, remove_source: true}"
    echo "  - type: enrich"
    echo "    model_version: {registry: \"$WORK/models.yml\", name_field: model, target: model_version, default: unknown}"
    echo "outputs:"
    echo "  - {type: jsonl, path: \"$WORK/out-$variant.jsonl\"}"
  } > "$WORK/pipeline-$variant.yml"
done

CLIENT=
stop_client() { if [ -n "$CLIENT" ]; then kill "$CLIENT" 2>/dev/null || true; wait "$CLIENT" 2>/dev/null || true; CLIENT=; fi; }
trap stop_client EXIT
: > "$WORK/status-client.log"

VARIANTS=(w1 w1-server w1-page)
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS (load average $(cut -d' ' -f1 /proc/loadavg))"
  for k in 0 1 2; do
    variant=${VARIANTS[$(( (k + rep - 1) % 3 ))]}
    rm -rf "$WORK/state-$variant" "$WORK/out-$variant.jsonl"
    if [ "$variant" = w1-page ]; then
      python3 "$HERE/status_client.py" "127.0.0.1:$PORT" 1 2>> "$WORK/status-client.log" &
      CLIENT=$!
    fi
    measure --name "$variant" --input "$INPUT" --stdout "$WORK/$variant.stdout" --stderr "$WORK/$variant.log" \
      --count "$WORK/out-$variant.jsonl" -- "$DW" run "$WORK/pipeline-$variant.yml" || true
    stop_client
  done
done
LOAD_AFTER_RUNS=$(cut -d' ' -f1-3 /proc/loadavg)

say "CPU per refresh: W1's status"
rm -rf "$WORK/state-w1-server" "$WORK/out-w1-server.jsonl"
python3 "$HERE/status_cost.py" --bin "$DW" --pipeline "$WORK/pipeline-w1-server.yml" --input "$INPUT" \
  --port "$PORT" --log "$WORK/status-cost-w1.log" | sed 's/^{/{"pipeline": "w1", /' >> "$COSTS"
say "CPU per refresh: the demo's status"
rm -rf "$WORK/demo" && mkdir -p "$WORK/demo"
(cd "$WORK/demo" && DRIFTWOOD_HOME=$ROOT python3 "$HERE/status_cost.py" --bin "$DW" --pipeline "$ROOT/pipelines/demo.yml" \
  --data-dir "$WORK/demo/state" --port "$((PORT + 1))" --log "$WORK/status-cost-demo.log") \
  | sed 's/^{/{"pipeline": "demo", /' >> "$COSTS"

DRAW=$WORK/status-draw-$STAMP.json
if command -v chromium > /dev/null; then
  say "first draw: 20 models, an hour of history"
  python3 "$HERE/status_draw.py" --bin "$DW" --port "$((PORT + 2))" --work "$WORK/draw" > "$DRAW"
fi

echo "## driftwood status-page bench: $LINES lines, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Load average before: $LOAD_BEFORE; after the W1 runs: $LOAD_AFTER_RUNS; $(nproc) cores;" \
  "repetitions interleaved (order turning): $REPS."
echo
python3 "$HERE/status_report.py" "$RESULTS" "$COSTS" "$LINES"
echo
echo "The client's own counts (one line per w1-page run):"
echo
sed 's/^/    /' "$WORK/status-client.log"
if [ -s "$DRAW" ]; then
  echo
  python3 - "$DRAW" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = ", ".join("%.0f" % x for x in d["first_draw_ms"])
print(f"First draw with {d['models']} models and {d['steps']} history steps ({d['status_bytes']:,} B of status):"
      f" median {d['median_ms']:.0f} ms, best {d['best_ms']:.0f} ms (runs: {runs} ms; target < 500 ms)."
      + ("" if not d["problems"] else " Problems: " + "; ".join(d["problems"])))
PY
fi
