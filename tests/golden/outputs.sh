#!/usr/bin/env bash
# Produce every output the seams refactor must keep byte-identical, with
# one fks binary, from inputs nobody on this project wrote (../shared/data):
#
#   outputs.sh FKS SHARED OUTDIR
#
# For each recording: `fks feed decode --json`, and `fks replay` with a
# report and an output journal (exported as JSON lines, since an LMDB file's
# free-page layout is not part of the contract).  tests/golden/check runs it
# with the build under test and compares against tests/golden/SHA256SUMS,
# which the pre-seams build (67eff96) produced.
set -euo pipefail
fks=$1 shared=$2 out=$3
py=${FKS_PYTHON:-/usr/bin/python3}  # the one with pandas (replay_ref.py imports it)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The venues' single-message fixtures, pretty-printed, become one JSON-lines
# recording per venue (compacted here; the shared files are never rewritten).
for venue in binance bybit coinbase kraken; do
  "$py" - "$shared/data/$venue" "$work/$venue.jsonl" <<'PY'
import glob, json, sys
with open(sys.argv[2], "w") as out:
    for p in sorted(glob.glob(sys.argv[1] + "/ws_*.json")):
        out.write(json.dumps(json.load(open(p)), separators=(",", ":")) + "\n")
PY
  "$fks" feed decode --venue "$venue" "$work/$venue.jsonl" --json --book 5 >"$out/decode-$venue-fixtures.json" || true
done
"$fks" feed decode --venue itch "$shared/data/itch/ex20101224.TEST_ITCH_50" --json --book 10 \
  --session-date 2010-12-24 >"$out/decode-itch.json"
"$fks" feed decode --venue bybit "$shared/data/bybit/2024-12-01_XRPUSDT_ob500.data" --json --book 10 \
  >"$out/decode-bybit-ob500.json"

# replay NAME ARGS...: a report and an exported output journal.
replay() {
  local name=$1; shift
  "$fks" replay "$@" --out "$work/$name.j" --report "$work/$name.r" >"$out/replay-$name.txt" 2>&1
  cp "$work/$name.r/report.json" "$out/replay-$name.report.json"
  cp "$work/$name.r/report.html" "$out/replay-$name.report.html"
  # A venue recording's receive times are the reading clock's: not replayable.
  "$fks" journal export "$work/$name.j" --format jsonl 2>/dev/null |
    sed -E 's/"recv_time_ns":[0-9]+,//' >"$out/replay-$name.journal.jsonl"
}

"$py" "$here/../pipeline/replay/replay_ref.py" convert-kraken "$shared/data/kraken/http_trades.json" "$work/kraken-trades.jsonl"
replay kraken-ma --input "$work/kraken-trades.jsonl" -c "$here/kraken.yaml" --touch-from-trades
replay kraken-engine --input "$work/kraken-trades.jsonl" -c "$here/kraken-engine.yaml" --touch-from-trades
sed "s|@ITCH@|$shared/data/itch/ex20101224.TEST_ITCH_50|" "$here/itch.yaml" >"$work/itch.yaml"
replay itch --input "$shared/data/itch/ex20101224.TEST_ITCH_50" --venue itch -c "$work/itch.yaml"
replay bybit-ob500 --input "$shared/data/bybit/2024-12-01_XRPUSDT_ob500.data" --venue bybit -c "$here/bybit.yaml"
sed "s|@ITCH@|$shared/data/itch/ex20101224.TEST_ITCH_50|" "$here/itch-engine.yaml" >"$work/itch-engine.yaml"
replay itch-engine --input "$shared/data/itch/ex20101224.TEST_ITCH_50" --venue itch -c "$work/itch-engine.yaml"
# A sweep's ranking table (parallel workers, merged in a fixed order).
"$fks" replay --input "$work/kraken-trades.jsonl" -c "$here/kraken.yaml" --touch-from-trades \
  --sweep fast=3,5 --sweep slow=20,40 >"$out/sweep-kraken.txt" 2>/dev/null
