#!/usr/bin/env bash
# bench/kafka.sh [LINES] -- what the Kafka tier costs, measured in one run on one input, against
# librdkafka's mock cluster (Tests/Fixtures/kafka/mock_cluster.c: 3 brokers in one process on
# this machine, fresh topics per repetition).
#
# Five pipelines, interleaved, REPS times, on the W1 model logs:
#   w1           stdin -> parse json (remove_source) -> enrich model_version -> jsonl  (the shared W1)
#   w1-file      the same from the file input (mode: read): the agent without Kafka
#   agent        file (mode: read) -> parse -> enrich -> kafka (lz4, key %{model}, acks=all,
#                idempotent); ends once every record is acknowledged; the topic's end offsets
#                must then add up to LINES
#   stdin-drift  stdin (w1's output, the events the agent sent) -> parse (remove_source) ->
#                drift (4 features, window 1000) + monitor (window 1000) -> jsonl: the
#                aggregator without Kafka
#   aggregator   kafka (a new group) -> parse (remove_source) -> drift + monitor -> jsonl;
#                stopped with SIGTERM once its output holds LINES lines (measure.py
#                --stop-at-lines), so its wall time includes the group join (~3 s: the mock
#                cluster's initial rebalance delay) and the drain at stop
# The mock cluster keeps only the last ~5 MiB of each partition (like a retention limit), so the
# agent's topic (three models: three partitions) does not keep 1M records. The aggregator reads
# a topic of 64 partitions instead, filled before it (not timed) by the agent's pipeline without
# a key (and no sticky partitioning, so every partition gets ~1/64); kcat checks that it holds
# all LINES records from offset 0.
#
# drift and monitor write no reports (report_every: 0), so every output holds exactly LINES
# lines. The jsonl outputs are the null sink: counted, then deleted. No target ratio: the report
# gives events/s, CPU, peak RSS, and the mock cluster's own CPU (not in driftwood's). The
# Markdown report goes to stdout, progress to stderr. Environment as bench/run.sh (BENCH_DIR,
# DRIFTWOOD_BIN, REPS, TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
. "$HERE/lib.sh"
bench_setup kafka "${1:-}"
FEATURES=features.amount,features.age,features.country,prediction
NAMES="w1 w1-file agent stdin-drift aggregator"

build_driftwood
model_log_input
cat "$INPUT" > /dev/null
cp "$ROOT/samples/models.yml" "$WORK/models.yml"
say "the drift baseline (not timed)"
"$DW" baseline --input "$INPUT" --features "$FEATURES" --output "$WORK/kafka-baseline.json" > /dev/null

MOCK=$WORK/mock_cluster
gcc -O2 -o "$MOCK" "$ROOT/Tests/Fixtures/kafka/mock_cluster.c" -lrdkafka
FIFO=$WORK/mock.in
rm -f "$FIFO" "$WORK/mock.out"
mkfifo "$FIFO"
"$MOCK" 3 < "$FIFO" > "$WORK/mock.out" &
MOCK_PID=$!
exec 3> "$FIFO"
trap 'echo quit >&3 2>/dev/null || true; exec 3>&-; wait $MOCK_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/mock.out" ] && break; sleep 0.1; done
BROKERS=$(head -1 "$WORK/mock.out")
[ -n "$BROKERS" ] || { say "the mock cluster printed no address"; exit 1; }
# Records acknowledged into a topic: its partitions' end offsets added up (the mock cluster may
# have dropped the oldest already).
acknowledged() { kcat -C -b "$BROKERS" -t "$1" -o -1 -e -q -f '%o\n' | awk '{ n += $1 + 1 } END { print n + 0 }'; }
# Records a topic holds from its start.
held() { kcat -C -b "$BROKERS" -t "$1" -o beginning -e -q -f '.\n' | wc -l; }
# The mock cluster's CPU seconds so far (utime + stime of its process).
TICKS=$(getconf CLK_TCK)
mock_cpu() { awk -v t="$TICKS" '{ print ($14 + $15) / t }' "/proc/$MOCK_PID/stat"; }
CLUSTER=${RESULTS%.jsonl}-cluster.jsonl

pipeline() { # variant repetition
  echo "# written by bench/kafka.sh"
  echo "data_dir: \"$WORK/state-$1\""
  case $1 in
    w1 | stdin-drift) echo "inputs: [{type: stdin}]" ;;
    w1-file | agent | feed) echo "inputs: [{type: file, paths: [\"$INPUT\"], mode: read}]" ;;
    aggregator)
      echo "inputs: [{type: kafka, brokers: [\"${BROKERS//,/\", \"}\"], topics: [bench-agg-$2], group: bench-$2, start_at: beginning}]" ;;
  esac
  echo "filters:"
  case $1 in
    w1 | w1-file | agent | feed)
      echo "  - {type: parse, format: json, remove_source: true}"
      echo "  - type: enrich"
      echo "    model_version: {registry: \"$WORK/models.yml\", name_field: model, target: model_version, default: unknown}"
      ;;
    *)
      echo "  - {type: parse, format: json, remove_source: true}"
      echo "  - {type: drift, baseline: \"$WORK/kafka-baseline.json\", features: [${FEATURES//,/, }], window: 1000, report_every: 0}"
      echo "  - {type: monitor, window: 1000, report_every: 0}"
      ;;
  esac
  echo "outputs:"
  if [ "$1" = agent ]; then
    echo "  - {type: kafka, brokers: [\"${BROKERS%%,*}\"], topic: bench-$2, key: \"%{model}\", compression: lz4}"
  elif [ "$1" = feed ]; then
    echo "  - {type: kafka, brokers: [\"${BROKERS%%,*}\"], topic: bench-agg-$2, compression: lz4, options: {sticky.partitioning.linger.ms: 0}}"
  else
    echo "  - {type: jsonl, path: \"$WORK/out-$1.jsonl\"}"
  fi
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  echo "topic bench-$rep 3" >&3
  echo "topic bench-agg-$rep 64" >&3
  for variant in $NAMES; do
    held_before=
    if [ "$variant" = aggregator ]; then
      say "filling bench-agg-$rep for the aggregator (not timed)"
      rm -rf "$WORK/state-feed"
      pipeline feed "$rep" > "$WORK/pipeline-feed.yml"
      "$DW" run "$WORK/pipeline-feed.yml" 2> "$WORK/feed.log" || true
      held_before=$(held "bench-agg-$rep")
      say "bench-agg-$rep holds $held_before records from offset 0 (of $LINES)"
      if [ "$held_before" -ne "$LINES" ]; then
        # The aggregator could never reach LINES: not run, and the report says so.
        echo "{\"name\": \"$variant\", \"rep\": $rep, \"skipped\": true, \"topic_records\": $held_before}" >> "$CLUSTER"
        continue
      fi
    fi
    rm -rf "$WORK/state-$variant" "$WORK/out-$variant.jsonl"
    pipeline "$variant" "$rep" > "$WORK/pipeline-$variant.yml"
    input=$INPUT
    count=$WORK/out-$variant.jsonl
    extra=()
    case $variant in
      w1-file | agent) input=/dev/null ;;
      stdin-drift) input=$WORK/out-w1.jsonl ;;
      aggregator) input=/dev/null extra=(--stop-at-lines "$LINES") ;;
    esac
    [ "$variant" = agent ] && count=$INPUT  # checked against the topic below
    before=$(mock_cpu)
    measure --name "$variant" --input "$input" --stdout "$WORK/$variant.stdout" --stderr "$WORK/$variant.log" \
      --count "$count" "${extra[@]}" -- "$DW" run "$WORK/pipeline-$variant.yml" || true
    after=$(mock_cpu)
    records=$held_before
    if [ "$variant" = agent ]; then
      # What reached the cluster, so a fast run that lost records cannot pass for a fast run.
      records=$(acknowledged "bench-$rep")
      say "agent repetition $rep: $records records acknowledged into bench-$rep (of $LINES)"
    fi
    echo "{\"name\": \"$variant\", \"rep\": $rep, \"cluster_cpu_s\": $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')${records:+, \"topic_records\": $records}}" >> "$CLUSTER"
  done
  rm -f "$WORK/out-w1.jsonl" "$WORK/out-w1-file.jsonl" "$WORK/out-stdin-drift.jsonl" "$WORK/out-aggregator.jsonl"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## driftwood kafka bench: $LINES lines, $STARTED"
echo
echo "- machine: $(nproc) cores; load average before the runs $LOAD, after $LOAD_AFTER (1, 5, 15 min)"
echo "- driftwood: $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- librdkafka's mock cluster: 3 brokers in one process on this machine; per repetition the agent's topic (3 partitions, keyed by model) and the aggregator's (64 partitions, filled untimed)"
echo "- $REPS repetition(s) of $NAMES, interleaved; medians; results: $RESULTS, $CLUSTER"
echo
python3 "$HERE/kafka_report.py" "$RESULTS" "$CLUSTER" --lines "$LINES"
