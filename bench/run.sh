#!/usr/bin/env bash
# bench/run.sh [LINES] -- driftwood against `cat` and a Python json reference, same input, same run.
#
# Workload (the shared W1, fed on stdin, with the version looked up in a registry):
#   stdin -> parse json (remove_source) -> enrich model_version from models.yml -> JSONL file
# Commands timed, one after the other on the same input (in the page cache):
#   cat        cat < INPUT > FILE                    the I/O floor
#   python     bench/reference.py (json.loads/dumps) the yardstick of PERFORMANCE.md
#   driftwood  driftwood run PIPELINE < INPUT
# The Markdown report goes to stdout, progress and build output to stderr, so
# `bench/run.sh > result.md` keeps a clean report. Exit status 1 if driftwood failed.
#
# Environment:
#   BENCH_DIR      input, pipeline, outputs (default ${TMPDIR:-/tmp}/driftwood-bench); the
#                  generated input is kept there and reused when it has LINES lines
#   DRIFTWOOD_BIN  time this binary instead of building one
#   REPS           repetitions of each command, interleaved; the table shows medians (default 1)
#   TIMEOUT        seconds before a command is killed (default 900)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-1}
TIMEOUT=${TIMEOUT:-900}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/run.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"

# 1. A release build of driftwood. A failed build is reported, and cat and python still run.
DW=""
DW_NOTE=""
if ! build_driftwood; then
  DW=""
  DW_NOTE="the release build failed (swift build output above, on stderr)"
  say "$DW_NOTE; timing the others anyway"
fi

# 2. The input: generated once per size, then reused (generating 1M lines takes ~10 s).
model_log_input

# 3. The pipeline and its registry. Absolute paths, so the working directory does not matter.
cp "$ROOT/samples/models.yml" "$WORK/models.yml"
cat > "$WORK/pipeline.yml" <<EOF
# written by bench/run.sh
data_dir: "$WORK/state"
inputs:
  - type: stdin
filters:
  - {type: parse, format: json, remove_source: true}
  - type: enrich
    model_version: {registry: "$WORK/models.yml", name_field: model, target: model_version, default: unknown}
outputs:
  - {type: jsonl, path: "$WORK/out.jsonl"}
EOF

# 4. Time the three commands. Outputs are counted by measure.py, then deleted (~300 MiB each).
RESULTS=$WORK/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)   # before we add our own
measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --input "$INPUT" --timeout "$TIMEOUT" "$@"; }
cat "$INPUT" > /dev/null   # warm the page cache so the first command is not penalised
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  measure --name cat --stdout "$WORK/out-cat.jsonl" -- cat || true
  measure --name python --stdout "$WORK/out-python.jsonl" \
    -- python3 "$HERE/reference.py" "$WORK/models.yml" || true
  rm -f "$WORK/out-cat.jsonl" "$WORK/out-python.jsonl"
  if [ -n "$DW" ]; then
    rm -rf "$WORK/state" "$WORK/out.jsonl"   # the jsonl output appends; start each run empty
    measure --name driftwood --stdout "$WORK/driftwood.stdout" --stderr "$WORK/driftwood.log" \
      --count "$WORK/out.jsonl" -- "$DW" run "$WORK/pipeline.yml" || true
    rm -f "$WORK/out.jsonl"
  fi
done

CHECK="not run"
if [ -n "$DW" ]; then
  CHECK=$(python3 "$HERE/measure.py" best --runs 5 -- "$DW" check "$WORK/pipeline.yml") || true
fi

# 5. The report.
INPUT_MIB=$(python3 -c "import os,sys; print('%.1f' % (os.path.getsize(sys.argv[1]) / 1048576))" "$INPUT")
echo "## driftwood bench: $LINES lines ($INPUT_MIB MiB), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "load average before the runs $LOAD (wall times only compare on a quiet machine)"
echo "- driftwood: ${DW:-none} (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)$(
  [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo ", uncommitted changes"))"
echo "- workload: stdin → parse json (remove_source) → enrich model_version (registry) → jsonl"
echo "- $REPS repetition(s), run one after another; results: $RESULTS"
echo
STATUS=0
python3 "$HERE/measure.py" table "$RESULTS" --lines "$LINES" --require driftwood || STATUS=1
echo
echo "- \`driftwood check\`: $CHECK"
[ -z "$DW_NOTE" ] || echo "- **FAIL** driftwood: $DW_NOTE"
exit $STATUS
