#!/usr/bin/env bash
# bench/reload.sh [LINES] -- what reloading a running pipeline costs (bench/reload.py).
#
# 1. The stall at full speed: driftwood tails LINES model-log lines (default 1,000,000) that are
#    in the file before it starts (file -> parse json -> enrich model_version -> jsonl), so the
#    input reads as fast as it can until it has caught up. `reloads`: a SIGHUP every 50 ms all
#    the way, each adding or removing a second jsonl output; `control`: the same run with no
#    reload. Interleaved, REPS times (default 3). The stall is the longest gap between
#    consecutive read times of the events in the 50 ms after each reload, against the longest
#    gap of each 50 ms slice of the control.
# 2. Memory: RELOADS reloads (default 1,000), one every 50 ms, under a writer appending 20,000
#    lines a second; RSS before the first reload and after the 10th, 100th and last.
# Target: a reload that changes one output stalls input less than 100 ms, and RSS after 1,000
# reloads stays where it was. Each run also checks that main holds each line exactly once.
# Environment as bench/run.sh (BENCH_DIR, DRIFTWOOD_BIN, REPS); RELOADS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/bench
say() { echo "bench: $*" >&2; }
. "$HERE/lib.sh"
bench_setup reload "${1:-1000000}"
RELOADS=${RELOADS:-1000}
build_driftwood
model_log_input
cp "$ROOT/samples/models.yml" "$WORK/models.yml"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

for rep in $(seq "$REPS"); do
  order=(control reloads); [ $((rep % 2)) -eq 0 ] && order=(reloads control)
  for variant in "${order[@]}"; do
    say "repetition $rep of $REPS: $variant (load average $(cut -d' ' -f1 /proc/loadavg))"
    flag=; [ "$variant" = reloads ] && flag=--reloads-on
    cat "$INPUT" > /dev/null
    python3 "$HERE/reload.py" stall --bin "$DW" --work "$WORK/reload" --input "$INPUT" --lines "$LINES" \
      --registry "$WORK/models.yml" $flag >> "$RESULTS"
  done
done
say "$RELOADS reloads under a writer of 20,000 lines/s"
python3 "$HERE/reload.py" rss --bin "$DW" --work "$WORK/reload" --reloads "$RELOADS" > "$WORK/reload-rss.json"

python3 - "$RESULTS" "$WORK/reload-rss.json" "$LINES" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
mem = json.load(open(sys.argv[2]))
lines, before, after = int(sys.argv[3]), sys.argv[4], sys.argv[5]
ok = all(r["exactly_once"] and r["exit"] == 0 for r in runs) and mem["exactly_once"] and mem["exit"] == 0
print(f"## driftwood reload bench: {lines:,} lines, {len(runs) // 2} repetitions, {mem['reloads']} reloads for memory")
print()
print(f"Load average before: {before}; after: {after}.")
print()
print("| run | catch-up s | reloads | longest gap after a reload (ms): median | p99 | max | inputs held (ms): median | max | each line once |")
print("|---|---|---|---|---|---|---|---|---|")
for r in runs:
    g, h = r["gap_ms"], r["inputs_held_ms"]
    gap = f"{g['median']:.0f} | {g['p99']:.0f} | {g['max']:.0f}" if g else "– | – | –"
    held = f"{h['median']:.2f} | {h['max']:.1f}" if h else "– | –"
    label = "reloads" if r["variant"] == "reloads" else "control (no reload: each 50 ms slice)"
    print(f"| {label} | {r['catch_up_s']:.2f} | {r['reloaded_lines']} of {r['reloads_sent']} | {gap} | {held} | {'yes' if r['exactly_once'] else '**FAIL**'} |")
def med(variant, key):
    return statistics.median(r[key] for r in runs if r["variant"] == variant)
print()
print(f"Catch-up time with a reload every 50 ms over without, medians: {med('reloads', 'catch_up_s') / med('control', 'catch_up_s'):.3f}.")
print()
k, h = mem["rss_kib"], mem["inputs_held_ms"]
print(f"{mem['reloads']} reloads (one every {mem['interval_s']} s) under a writer of {mem['rate']:,} lines/s:"
      f" {mem['reloaded_lines']} `reloaded` log lines, inputs held median {h['median']:.2f} ms, max {h['max']:.1f} ms;"
      f" {mem['lines']:,} lines, each once in main: {'yes' if mem['exactly_once'] else '**FAIL**'}.")
print()
print("| RSS | " + " | ".join(x.replace("_", " ") for x in k) + " |")
print("|---|" + "---|" * len(k))
print("| MiB | " + " | ".join(f"{v / 1024:.1f}" for v in k.values()) + " |")
if not ok:
    print()
    print("**FAIL**: a run exited non-zero or did not deliver each line exactly once")
sys.exit(0 if ok else 1)
PY
