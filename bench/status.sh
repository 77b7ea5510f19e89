#!/usr/bin/env bash
# bench/status.sh [LINES] -- what serving the status page costs, measured in one run on one input.
#
# The shared W1 workload (stdin -> parse json (remove_source) -> enrich model_version -> jsonl),
# three ways, interleaved, on the same input (in the page cache):
#   w1          no metrics.address: no server at all
#   w1-server   metrics.address set: the server, and the status's reading once a second
#   w1-page     the same, and a client doing what the page does at ?refresh=1: GET / and
#               GET /api/v1/status every second (bench/status_client.py)
# Target: w1-page within 1% of w1's events/s. On a machine shared with other work, compare the
# medians of several repetitions (REPS, default 5) and read the spread beside them.
# The Markdown report goes to stdout, progress to stderr. Environment as bench/run.sh
# (BENCH_DIR, DRIFTWOOD_BIN, REPS, TIMEOUT); PORT (default 19790) for the metrics address.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-2000000}
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

RESULTS=$WORK/status-results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
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

for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  for variant in w1 w1-server w1-page; do
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

echo "## driftwood status-page bench: $LINES lines, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Load average before: $LOAD; $(nproc) cores; repetitions interleaved: $REPS."
echo
python3 - "$RESULTS" "$LINES" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs.setdefault(r["name"], []).append(r)
lines = int(sys.argv[2])
print("| variant | events/s (median) | min – max | CPU s (median) | peak RSS MiB | vs w1 |")
print("|---|---|---|---|---|---|")
base = None
for name in ("w1", "w1-server", "w1-page"):
    rs = runs.get(name, [])
    ok = [r for r in rs if r["exit"] == 0 and r["out_lines"] == lines]
    if len(ok) != len(rs):
        print(f"FAIL: {name}: {len(rs) - len(ok)} runs did not write {lines} lines")
    if not ok:
        continue
    rates = [lines / r["wall_s"] for r in ok]
    med = statistics.median(rates)
    if base is None:
        base = med
    print(f"| {name} | {med:,.0f} | {min(rates):,.0f} – {max(rates):,.0f} | "
          f"{statistics.median(r['cpu_s'] for r in ok):.2f} | {max(r['peak_rss_MiB'] for r in ok):.1f} | "
          f"{100 * med / base:.1f}% |")
PY
echo
tail -n "$REPS" "$WORK/status-client.log" | sed 's/^/    /'
