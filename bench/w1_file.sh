#!/usr/bin/env bash
# W1 through the file input, against rsyslog in the same run (issue #4's benchmark):
# a JSON-lines file read from its beginning → parse json into the root (dropping the raw line)
# → add model_version → JSONL. Both shippers are timed the same way by run_peer.py (a copy of
# the peers' run_peer.py): from spawn until the output holds every line; CPU and peak RSS
# from /proc at that moment. rsyslog uses the peers' configuration (rsyslog-w1.conf, imfile +
# mmjsonparse + omfile); driftwood the shared driftwood-w1.yml, repeated below.
#
#   bench/w1_file.sh [LINES]         default 1,000,000 (277 MiB)
# Env: BENCH_DIR (default ${TMPDIR:-/tmp}/driftwood-bench), DRIFTWOOD_BIN, REPS (default 1),
#      RSYSLOGD (default /usr/sbin/rsyslogd; skipped with a note when missing).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LINES=${1:-1000000}
WORK=${BENCH_DIR:-${TMPDIR:-/tmp}/driftwood-bench}
REPS=${REPS:-1}
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
say() { echo "== $*" >&2; }
. "$HERE/lib.sh"
mkdir -p "$WORK"

build_driftwood

model_log_input
cat "$INPUT" > /dev/null   # warm the page cache for everyone

RESULTS=$WORK/w1-file-$(date -u +%Y%m%dT%H%M%SZ).jsonl
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq "$REPS"); do
  say "repetition $rep of $REPS"
  if [ -x "$RSYSLOGD" ]; then
    d="$WORK/rsyslog-w1"; rm -rf "$d"; mkdir -p "$d/work"
    sed -e "s|@WORKDIR@|$d/work|g" -e "s|@INPUT@|$INPUT|g" -e "s|@OUT@|$d/out.jsonl|g" \
      "$HERE/rsyslog-w1.conf" > "$d/rsyslog.conf"
    python3 "$HERE/run_peer.py" --name rsyslog --mode file --expect "$LINES" --input "$INPUT" \
      --out-file "$d/out.jsonl" --results "$RESULTS" --log "$d/rsyslogd.log" \
      -- "$RSYSLOGD" -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" >&2 || say "rsyslog run failed"
    rm -f "$d/out.jsonl"
  else
    say "no rsyslogd at $RSYSLOGD (apt-get install rsyslog): driftwood alone"
  fi
  d="$WORK/driftwood-w1"; rm -rf "$d"; mkdir -p "$d"
  peers_pipeline "$d/pipeline.yml" "$d" driftwood-w1.yml <<YAML
  - {type: jsonl, path: "$d/out.jsonl"}
YAML
  python3 "$HERE/run_peer.py" --name driftwood --mode file --expect "$LINES" --input "$INPUT" \
    --out-file "$d/out.jsonl" --results "$RESULTS" --log "$d/driftwood.log" \
    -- "$DW" run "$d/pipeline.yml" >&2 || say "driftwood run failed"
  rm -f "$d/out.jsonl"
done

INPUT_MIB=$(python3 -c "import os,sys; print('%.1f' % (os.path.getsize(sys.argv[1]) / 1048576))" "$INPUT")
echo "## W1 through the file input: $LINES lines ($INPUT_MIB MiB), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores; load average before the runs $LOAD"
echo "- driftwood $DW (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none))"
echo "- results: $RESULTS"
echo
python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r)
def med(rs, k):
    v = [r.get(k) for r in rs if r.get(k) is not None]
    return statistics.median(v) if v else None
print("| shipper | runs | events/s | input MiB/s | CPU s | peak RSS MiB | every line delivered |")
print("|---|---|---|---|---|---|---|")
summary = {}
for name, rs in rows.items():
    eps = med(rs, "events_per_s"); summary[name] = eps
    f = lambda v, p=1: "-" if v is None else ("%.*f" % (p, v))
    ok = all(r.get("complete") and r.get("out_lines") == r.get("expected") for r in rs)
    print(f"| {name} | {len(rs)} | {f(eps, 0)} | {f(med(rs, 'input_MiB_per_s'))} | {f(med(rs, 'cpu_s'), 2)} | {f(med(rs, 'peak_rss_MiB'))} | {ok} |")
if summary.get("driftwood") and summary.get("rsyslog"):
    print()
    print("driftwood / rsyslog: **%.2fx** events/s (target: at least 4x)" % (summary["driftwood"] / summary["rsyslog"]))
PY
