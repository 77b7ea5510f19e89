#!/usr/bin/env bash
# bench/kafka.sh [LINES] -- what shipping to Kafka costs, measured in one run on one input.
#
# The shared W1 workload and the agent, interleaved, on the same input (stdin, in the page cache):
#   w1      stdin -> parse json (remove_source) -> enrich model_version -> jsonl
#   agent   the same, but to the `kafka` output (lz4, key %{model}, acks=all, idempotent) on
#           librdkafka's mock cluster (Tests/Fixtures/kafka/mock_cluster.c, 3 brokers, a fresh
#           topic of 3 partitions per repetition): the run ends once every record is acknowledged
# No target ratio: the report says events/s and CPU of each. The mock cluster runs on the same
# machine and takes CPU of its own (not counted in the agent's). Environment as bench/run.sh
# (BENCH_DIR, DRIFTWOOD_BIN, REPS, TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-3}
TIMEOUT=${TIMEOUT:-900}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/kafka.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"

build_driftwood
model_log_input
cat "$INPUT" > /dev/null

MOCK=$WORK/mock_cluster
gcc -O2 -o "$MOCK" "$ROOT/Tests/Fixtures/kafka/mock_cluster.c" -lrdkafka
FIFO=$WORK/mock.in
rm -f "$FIFO"
mkfifo "$FIFO"
"$MOCK" 3 < "$FIFO" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3> "$FIFO"
trap 'echo quit >&3 2>/dev/null || true; exec 3>&-; wait $MOCK_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/mock.out" ] && break; sleep 0.1; done
BROKERS=$(head -1 "$WORK/mock.out")

RESULTS=$WORK/kafka-results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --timeout "$TIMEOUT" "$@"; }
cp "$ROOT/samples/models.yml" "$WORK/models.yml"

pipeline() { # variant topic
  echo "data_dir: \"$WORK/state-$1\""
  echo "inputs: [{type: stdin}]"
  echo "filters:"
  echo "  - {type: parse, format: json, remove_source: true}"
  echo "  - type: enrich"
  echo "    model_version: {registry: \"$WORK/models.yml\", name_field: model, target: model_version, default: unknown}"
  echo "outputs:"
  if [ "$1" = agent ]; then
    echo "  - {type: kafka, brokers: [\"${BROKERS%%,*}\"], topic: $2, key: \"%{model}\", compression: lz4}"
  else
    echo "  - {type: jsonl, path: \"$WORK/out-w1.jsonl\"}"
  fi
}

for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  rm -rf "$WORK/state-w1" "$WORK/out-w1.jsonl"
  pipeline w1 > "$WORK/pipeline-w1.yml"
  measure --name w1 --input "$INPUT" --stdout "$WORK/w1.stdout" --stderr "$WORK/w1.log" \
    --count "$WORK/out-w1.jsonl" -- "$DW" run "$WORK/pipeline-w1.yml" || true
  echo "topic bench-$rep 3" >&3
  rm -rf "$WORK/state-agent"
  pipeline agent "bench-$rep" > "$WORK/pipeline-agent.yml"
  measure --name agent --input "$INPUT" --stdout "$WORK/agent.stdout" --stderr "$WORK/agent.log" \
    --count "$INPUT" -- "$DW" run "$WORK/pipeline-agent.yml" || true
  # What reached the cluster, so a fast run that lost records cannot pass for a fast run.
  GOT=$(kcat -C -b "$BROKERS" -t "bench-$rep" -o beginning -e -q -f '.\n' | wc -l)
  say "agent repetition $rep: $GOT records in the topic (of $LINES)"
done

echo "## driftwood kafka bench: $LINES lines, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, load average before the runs $LOAD (shared with other builds: compare the ratio, not the times)"
echo "- driftwood: $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- $REPS repetition(s) of w1 / agent, interleaved; medians; results: $RESULTS"
echo
STATUS=0
python3 "$HERE/measure.py" table "$RESULTS" --lines "$LINES" --require agent | grep -v ' / python\| / cat' || STATUS=1
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
walls = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("exit") == 0 and not r.get("timed_out"):
        walls.setdefault(r["name"], []).append(r["wall_s"])
if "w1" in walls and "agent" in walls:
    print("- agent / w1, events/s: **%.3g×**" % (statistics.median(walls["w1"]) / statistics.median(walls["agent"])))
PY
rm -f "$WORK/out-w1.jsonl"
exit $STATUS
