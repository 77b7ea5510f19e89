#!/usr/bin/env bash
# bench/drift.sh [LINES] -- what model monitoring costs, measured in one run on one input.
#
# 1. The shared W1 workload twice, interleaved, on the same input (stdin, in the page cache):
#      w1        stdin -> parse json (remove_source) -> enrich model_version -> jsonl
#      w1-drift  the same plus `drift` (4 features, window 1000, defaults: annotate drifting,
#                a score report every 1000 scored events) and `monitor` (window 1000, default
#                error rate and latency, a report every 1000 events) after enrich; their state
#                is saved under data_dir once a second and at stop
#      w1-member the control: w1 plus an `enrich` that adds a constant `drift` member of the
#                size of the first round's per-event score map (~190 bytes, now only written with
#                annotate: scores): what writing that much more per event costs by itself
#      w1-null, w1-drift-null  w1 and w1-drift with the JSONL output going to /dev/null: the
#                same work without the kernel filling the page cache with the output. On a VM
#                that hands freed memory back to its host, that filling costs up to ~2 s per
#                1.2 GB of output in some runs and nothing in others (docs/benchmarks.md), so
#                this pair is the one whose ratio says what drift and monitor cost.
#    Target: w1-drift at least 90% of w1's events/s.
# 2. `driftwood baseline` on the LINES lines (4 features, 10 bins) against
#    bench/baseline_reference.py (json.loads per line + numpy.quantile), and a check that both
#    wrote the same edges and proportions. Target: driftwood at least 4x faster.
# The Markdown report goes to stdout, progress to stderr. Environment as bench/run.sh
# (BENCH_DIR, DRIFTWOOD_BIN, REPS, TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-3}
TIMEOUT=${TIMEOUT:-900}
FEATURES=features.amount,features.age,features.country,prediction
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/drift.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"

build_driftwood
core_link_probe

model_log_input
cat "$INPUT" > /dev/null

RESULTS=$WORK/drift-results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --timeout "$TIMEOUT" "$@"; }

# The baselines: driftwood's (also used by w1-drift) and Python's, timed.
say "driftwood baseline vs python3 + numpy on $LINES lines"
measure --name baseline-driftwood --input /dev/null --stdout "$WORK/baseline.stdout" \
  --stderr "$WORK/baseline.log" -- "$DW" baseline --input "$INPUT" --features "$FEATURES" --output "$WORK/baseline.json" || true
measure --name baseline-python --input /dev/null --stdout "$WORK/baseline-python.json" \
  -- python3 "$HERE/baseline_reference.py" --features "$FEATURES" "$INPUT" || true

cp "$ROOT/samples/models.yml" "$WORK/models.yml"
# The control's member: a string as long as a real `drift` member of this bench's features.
PAD=$(python3 -c 'print("x" * 176)')
VARIANTS="w1 w1-member w1-drift w1-null w1-drift-null"
for variant in $VARIANTS; do
  base=${variant%-null}
  out="$WORK/out-$variant.jsonl"
  [ "$base" = "$variant" ] || out=/dev/null
  {
    echo "# written by bench/drift.sh"
    echo "data_dir: \"$WORK/state-$variant\""
    echo "inputs: [{type: stdin}]"
    echo "filters:"
    echo "  - {type: parse, format: json, remove_source: true}"
    echo "  - type: enrich"
    echo "    model_version: {registry: \"$WORK/models.yml\", name_field: model, target: model_version, default: unknown}"
    if [ "$base" = w1-member ]; then
      echo "  - {type: enrich, fields: {drift: \"$PAD\"}}"
    fi
    if [ "$base" = w1-drift ]; then
      echo "  - {type: drift, baseline: \"$WORK/baseline.json\", features: [${FEATURES//,/, }], window: 1000}"
      echo "  - {type: monitor, window: 1000}"
    fi
    echo "outputs:"
    echo "  - {type: jsonl, path: \"$out\"}"
  } > "$WORK/pipeline-$variant.yml"
done

for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  for variant in $VARIANTS; do
    rm -rf "$WORK/state-$variant" "$WORK/out-$variant.jsonl"
    count=(--count "$WORK/out-$variant.jsonl")
    [ "${variant%-null}" = "$variant" ] || count=(--delivered-from "$WORK/$variant.log")
    measure --name "$variant" --input "$INPUT" --stdout "$WORK/$variant.stdout" --stderr "$WORK/$variant.log" \
      "${count[@]}" -- "$DW" run "$WORK/pipeline-$variant.yml" || true
  done
done

echo "## driftwood model-monitoring bench: $LINES lines, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, load average before the runs $LOAD (wall times only compare on a quiet machine)"
echo "- driftwood: $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- $REPS repetition(s) of w1 / w1-drift, interleaved; medians; results: $RESULTS"
echo
python3 "$HERE/drift_report.py" "$RESULTS" --lines "$LINES" \
  --driftwood-baseline "$WORK/baseline.json" --python-baseline "$WORK/baseline-python.json"
STATUS=$?
rm -f "$WORK/out-w1.jsonl" "$WORK/out-w1-member.jsonl" "$WORK/out-w1-drift.jsonl"
exit $STATUS
