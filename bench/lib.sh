# Sourced by the bench scripts (run.sh, w2.sh, w2_file.sh, drift.sh, w1_file.sh, evaluate.sh, status.sh,
# kafka.sh). Expects ROOT and HERE to be set by the script, and WORK, LINES and a `say` function
# either set by the script or by `bench_setup`.

# The start every interleaved bench shares: `bench_setup NAME [LINES]` sets LINES (default
# 1,000,000; exits 2 unless a positive number), WORK ($BENCH_DIR, default
# ${TMPDIR:-/tmp}/driftwood-bench, created), REPS (default 3), TIMEOUT (default 900 s), RESULTS
# ($WORK/NAME-results-<UTC time>.jsonl), `say` (unless the script has one) and `measure`
# (measure.py run, appending to RESULTS, killed after TIMEOUT).
bench_setup() {
  LINES=${2:-1000000}
  [[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/$1.sh [LINES]" >&2; exit 2; }
  WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
  REPS=${REPS:-3}
  TIMEOUT=${TIMEOUT:-900}
  mkdir -p "$WORK"
  RESULTS=$WORK/$1-results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
  declare -F say > /dev/null || say() { echo "bench: $*" >&2; }
  measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --timeout "$TIMEOUT" "$@"; }
}

# Sets DW to $DRIFTWOOD_BIN, or to a release binary built now. Returns 1 if the build fails.
build_driftwood() {
  if [ -n "${DRIFTWOOD_BIN:-}" ]; then
    DW=$DRIFTWOOD_BIN
    return 0
  fi
  say "swift build -c release --product driftwood"
  (cd "$ROOT" && swift build -c release --product driftwood >&2) || return 1
  DW=$(cd "$ROOT" && swift build -c release --show-bin-path)/driftwood
}

# Sets INPUT to $WORK/model_logs_$LINES.jsonl: generated once per size (1M lines take ~10 s),
# then reused. Only a complete file gets the reusable name.
model_log_input() {
  INPUT=$WORK/model_logs_$LINES.jsonl
  if [ -f "$INPUT" ] && [ "$(wc -l < "$INPUT")" -eq "$LINES" ]; then
    say "reusing $INPUT"
  else
    python3 "$HERE/gen_model_logs.py" --lines "$LINES" --out "$INPUT.tmp"
    mv "$INPUT.tmp" "$INPUT"
  fi
}

# Builds bench/core_link.c into $WORK and exports BENCH_CORE_LINK, so that measure.py records
# the round trip of a cache line between CPUs 0 and 1 before and after every run: on a VM it
# can switch between ~90 and ~430 ns from one minute to the next, and a run that passes every
# event between threads takes up to 1.8x the CPU in the slow state (docs/benchmarks.md).
# Without gcc, or with one CPU (nothing to measure: the two threads would take turns), runs
# are simply not annotated.
core_link_probe() {
  if [ "$(nproc)" -lt 2 ]; then
    say "one CPU: runs are not annotated with bench/core_link's round trip"
  elif gcc -O2 -pthread -o "$WORK/core_link" "$HERE/core_link.c" 2> /dev/null; then
    export BENCH_CORE_LINK=$WORK/core_link
  else
    say "no gcc: runs are not annotated with bench/core_link's round trip"
  fi
}

# Prints a TCP port of 127.0.0.1 that is free now (for a sink the script starts).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits up to 5 s until something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2> /dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Writes the peers' driftwood pipeline (driftwood-w1.yml / driftwood-w2.yml) to FILE: the file
# input reading INPUT from its beginning, parse json, enrich model_version 1.4.2, state under
# DIR/state, and the `outputs:` entries read from stdin (already indented as list items).
peers_pipeline() {
  local file=$1 dir=$2 name=$3
  {
    echo "# the peers' $name"
    echo "data_dir: \"$dir/state\""
    echo "inputs:"
    echo "  - type: file"
    echo "    paths: [\"$INPUT\"]"
    echo "    start_at: beginning"
    echo "filters:"
    echo "  - {type: parse, format: json, remove_source: true}"
    echo "  - {type: enrich, fields: {model_version: \"1.4.2\"}}"
    echo "outputs:"
    cat
  } > "$file"
}
