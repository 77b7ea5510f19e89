#!/usr/bin/env bash
# bench/evaluate.sh [LINES] -- what `evaluate` costs, measured in one run on one input.
#
# 1. One input of LINES lines: the W1 model logs (bench/gen_model_logs.py) where one line in ten
#    is a ground-truth line {"ts", "msg": "ground_truth", "request_id", "actual"} for one of the
#    last 5,000 predictions (so most predictions never get a label and wait in the join).
#    Two pipelines on it, interleaved, REPS times:
#      w1           stdin -> parse json (remove_source) -> enrich model_version -> jsonl
#      w1-evaluate  the same plus `evaluate` (binary, group_by model, fairness over
#                   features.channel, an f1 threshold) after enrich
#      w1-null, w1-evaluate-null  the same two with the output to /dev/null: the same work
#                   without the kernel filling the page cache with the output, which on a VM
#                   that hands freed memory back to its host costs seconds in some runs and
#                   nothing in others (docs/benchmarks.md)
#    Target: w1-evaluate at least 85% of w1's events/s.
# 2. Peak RSS with 1,000,000 pending predictions: 1M prediction lines and no label through
#    w1 and through w1-evaluate with pending.max at its default (1,000,000): the difference is
#    what the join holds.
# The Markdown report goes to stdout, progress to stderr. Environment as bench/run.sh
# (BENCH_DIR, DRIFTWOOD_BIN, REPS, TIMEOUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-3}
TIMEOUT=${TIMEOUT:-900}
[[ $LINES =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/evaluate.sh [LINES]" >&2; exit 2; }
mkdir -p "$WORK"
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"

build_driftwood
core_link_probe
model_log_input
LABELLED=$WORK/model_logs_labelled_$LINES.jsonl
say "adding ground-truth lines (1 in 10) -> $LABELLED"
python3 - "$INPUT" "$LABELLED" "$LINES" <<'PY'
import json, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(7)
recent, written = [], 0
with open(src) as f, open(out, "w") as o:
    for line in f:
        if written >= n:
            break
        o.write(line)
        written += 1
        e = json.loads(line)
        if "request_id" in e and "prediction" in e:
            recent.append(e["request_id"])
            if len(recent) > 5000:
                recent.pop(0)
        if written % 9 == 0 and recent and written < n:
            rid = recent[rnd.randrange(len(recent))]
            o.write(json.dumps({"ts": e["ts"], "msg": "ground_truth", "request_id": rid,
                                "actual": int(rnd.random() < 0.3)}, separators=(",", ":")) + "\n")
            written += 1
PY
cat "$LABELLED" > /dev/null

RESULTS=$WORK/evaluate-results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
measure() { python3 "$HERE/measure.py" run --results "$RESULTS" --timeout "$TIMEOUT" "$@"; }
cp "$ROOT/samples/models.yml" "$WORK/models.yml"
VARIANTS="w1 w1-evaluate w1-null w1-evaluate-null"
for variant in $VARIANTS; do
  base=${variant%-null}
  out="$WORK/out-$variant.jsonl"
  [ "$base" = "$variant" ] || out=/dev/null
  {
    echo "# written by bench/evaluate.sh"
    echo "data_dir: \"$WORK/state-$variant\""
    echo "inputs: [{type: stdin}]"
    echo "filters:"
    echo "  - {type: parse, format: json, remove_source: true}"
    echo "  - type: enrich"
    echo "    model_version: {registry: \"$WORK/models.yml\", name_field: model, target: model_version, default: unknown}"
    if [ "$base" = w1-evaluate ]; then
      echo "  - type: evaluate"
      echo "    id: request_id"
      echo "    label: actual"
      echo "    group_by: model"
      echo "    thresholds: {f1: 0.5}"
      echo "    fairness: {attribute: features.channel, thresholds: {demographic_parity_difference: 0.2}}"
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
    measure --name "$variant" --input "$LABELLED" --stdout "$WORK/$variant.stdout" --stderr "$WORK/$variant.log" \
      "${count[@]}" -- "$DW" run "$WORK/pipeline-$variant.yml" || true
  done
done

# 1M pending predictions: the prediction lines only (W1's input holds ~98.5% of them).
PENDING=$WORK/predictions_1000000.jsonl
if [ ! -f "$PENDING" ] || [ "$(wc -l < "$PENDING")" -ne 1000000 ]; then
  python3 "$HERE/gen_model_logs.py" --lines 1020000 --out "$WORK/model_logs_1020000.jsonl"
  awk '/"prediction"/ && n < 1000000 { print; n++ }' "$WORK/model_logs_1020000.jsonl" > "$PENDING"   # (grep | head dies of SIGPIPE under pipefail)
  rm -f "$WORK/model_logs_1020000.jsonl"
fi
for variant in w1 w1-evaluate; do
  rm -rf "$WORK/state-$variant" "$WORK/out-$variant.jsonl"
  measure --name "pending-$variant" --input "$PENDING" --stdout "$WORK/pending-$variant.stdout" \
    --stderr "$WORK/pending-$variant.log" --count "$WORK/out-$variant.jsonl" -- "$DW" run "$WORK/pipeline-$variant.yml" || true
done

echo "## driftwood evaluate bench: $LINES lines (1 in 10 a label), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, load average before the runs $LOAD (shared with other builds: compare the ratio, not the times)"
echo "- driftwood: $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- $REPS repetition(s) of w1 / w1-evaluate, interleaved; medians; results: $RESULTS"
echo
python3 - "$RESULTS" "$LINES" "$HERE" <<'PY'
import json, statistics, sys
sys.path.insert(0, sys.argv[3])
import core_link_report
runs = [json.loads(l) for l in open(sys.argv[1])]
lines = int(sys.argv[2])
def med(name, key):
    xs = [r[key] for r in runs if r["name"] == name and r["exit"] == 0]
    return statistics.median(xs) if xs else float("nan")
print("| run | wall s (median) | events/s | user / sys s | peak RSS MiB | output lines |")
print("|---|---|---|---|---|---|")
for name in ["w1", "w1-evaluate", "w1-null", "w1-evaluate-null", "pending-w1", "pending-w1-evaluate"]:
    good = [r for r in runs if r["name"] == name and r["exit"] == 0]
    if not good:
        print("| %s | FAILED | | | | |" % name)
        continue
    n = lines if not name.startswith("pending") else 1000000
    wall = med(name, "wall_s")
    print("| %s | %.2f | %.0f | %.2f / %.2f | %.1f | %s |" % (
        name, wall, n / wall, med(name, "user_s"), med(name, "sys_s"), max(r["peak_rss_MiB"] for r in good),
        good[-1]["out_lines"]))
ratio = med("w1", "wall_s") / med("w1-evaluate", "wall_s")
print()
print("w1-evaluate / w1 events/s: **%.1f%%** (target >= 85%%)" % (100 * ratio))
print()
print(core_link_report.summary([r for r in runs if not r["name"].startswith("pending")]))
fast = core_link_report.fast_ratio(runs, "w1", "w1-evaluate")
if fast:
    print("- w1-evaluate / w1 over the runs in the fast state only: **%.1f%%** (%d and %d runs)" % (100 * fast[0], fast[1], fast[2]))
print("- the same with the output to /dev/null (no page cache to fill; what evaluate costs): **%.1f%%**" % (
    100 * med("w1-null", "wall_s") / med("w1-evaluate-null", "wall_s")))
fast = core_link_report.fast_ratio(runs, "w1-null", "w1-evaluate-null")
if fast:
    print("- w1-evaluate-null / w1-null over the runs in the fast state only: **%.1f%%** (%d and %d runs)" % (
        100 * fast[0], fast[1], fast[2]))
print()
print("1M pending predictions: peak RSS %.1f MiB with evaluate, %.1f MiB without (+%.1f MiB)" % (
    med("pending-w1-evaluate", "peak_rss_MiB"), med("pending-w1", "peak_rss_MiB"),
    med("pending-w1-evaluate", "peak_rss_MiB") - med("pending-w1", "peak_rss_MiB")))
PY
rm -f "$WORK/out-w1.jsonl" "$WORK/out-w1-evaluate.jsonl"
