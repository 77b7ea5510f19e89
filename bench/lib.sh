# Sourced by the bench scripts (run.sh, w2.sh, drift.sh, w1_file.sh). Expects ROOT, HERE, WORK,
# LINES and a `say` function to be set by the script.

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
