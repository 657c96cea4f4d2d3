#!/usr/bin/env bash
# run_fuzz.sh TARGET RUNS [SEED_FILE_OR_DIR...]
# Copies the seeds into a scratch corpus (libFuzzer writes new inputs into
# its first corpus directory, and ../shared is read-only), then fuzzes for
# RUNS inputs with a fixed seed so a CI failure can be reproduced.  A crash
# leaves its input in the scratch directory, which is then kept and named.
set -euo pipefail
target=$1 runs=$2; shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/fks-fuzz.XXXXXX")
mkdir "$work/corpus"
for seed in "$@"; do
  if [ -d "$seed" ]; then cp -r "$seed"/. "$work/corpus/"; else cp "$seed" "$work/corpus/"; fi
done
if "$target" -runs="$runs" -seed=1 -max_len=65536 -rss_limit_mb=2048 \
     -artifact_prefix="$work/" "$work/corpus" 2>"$work/log"; then
  tail -n 3 "$work/log"
  rm -rf "$work"
else
  rc=$?
  tail -n 40 "$work/log"
  echo "run_fuzz: $(basename "$target") failed (exit $rc); inputs kept in $work" >&2
  exit "$rc"
fi
