#!/usr/bin/env bash
# bench/w2.sh [LINES] -- W2: driftwood ships model logs as gzip _bulk requests to a null sink.
#
# Workload (the shared W2, fed on stdin):
#   stdin -> parse json (remove_source) -> enrich model_version=1.4.2 -> elasticsearch (gzip)
#   into bench/es_null_sink.c on 127.0.0.1, which inflates, counts and acknowledges every item
#   (the sink the peers were measured against; built here with gcc).
# Reports events/s, CPU, peak RSS, compressed bytes per event and the sink's CPU seconds.
# The Markdown report goes to stdout, progress to stderr. Exit status 1 if a run failed or
# delivered a number of documents other than LINES.
#
# Environment:
#   BENCH_DIR      input, pipeline, results (default ${TMPDIR:-/tmp}/driftwood-bench)
#   DRIFTWOOD_BIN  time this binary instead of building one
#   REPS           repetitions (default 3); the table shows medians
#   LEVEL          compression_level (default 1)
#   TIMEOUT        seconds before a run is killed (default 900)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-3}
LEVEL=${LEVEL:-1}
TIMEOUT=${TIMEOUT:-900}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/w2.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "w2: $*" >&2; }
. "$HERE/lib.sh"

build_driftwood

SINK_BIN=$WORK/es_null_sink
gcc -O2 -pthread -o "$SINK_BIN" "$HERE/es_null_sink.c" -lz

model_log_input

# The sink on a free port of 127.0.0.1; ended by its PID when this script ends.
PORT=$(free_port)
"$SINK_BIN" --port "$PORT" --check '"model_version":"1.4.2"' 2> "$WORK/sink.log" &
SINK_PID=$!
trap 'kill "$SINK_PID" 2>/dev/null || true' EXIT
wait_for_port "$PORT" || say "the sink did not start (log: $WORK/sink.log)"

cat > "$WORK/pipeline-w2.yml" <<EOF
# written by bench/w2.sh
data_dir: "$WORK/state-w2"
inputs:
  - type: stdin
filters:
  - {type: parse, format: json, remove_source: true}
  - {type: enrich, fields: {model_version: "1.4.2"}}
outputs:
  - type: elasticsearch
    hosts: ["http://127.0.0.1:$PORT"]
    index: bench
    compression: gzip
    compression_level: $LEVEL
EOF

RESULTS=$WORK/results-w2-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$INPUT" > /dev/null   # warm the page cache
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  rm -rf "$WORK/state-w2"
  python3 "$HERE/w2.py" run --name driftwood-w2 --input "$INPUT" --lines "$LINES" \
    --sink "http://127.0.0.1:$PORT" --sink-pid "$SINK_PID" --results "$RESULTS" \
    --stderr "$WORK/driftwood-w2.log" --timeout "$TIMEOUT" -- "$DW" run "$WORK/pipeline-w2.yml" || true
done

INPUT_MIB=$(python3 -c "import os,sys; print('%.1f' % (os.path.getsize(sys.argv[1]) / 1048576))" "$INPUT")
echo "## driftwood W2 bench: $LINES lines ($INPUT_MIB MiB) → gzip _bulk (level $LEVEL), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "load average before the runs $LOAD (wall times only compare on a quiet machine)"
echo "- driftwood: $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- workload: stdin → parse json (remove_source) → enrich model_version → elasticsearch, gzip, into bench/es_null_sink.c"
echo "- $REPS repetition(s); wall = spawn to exit (driftwood exits once every event is acknowledged); results: $RESULTS"
echo
python3 "$HERE/w2.py" table "$RESULTS" --lines "$LINES"
