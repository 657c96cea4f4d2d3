#!/usr/bin/env bash
# scripts/check-layers must fail, naming file, line and rule, on a
# wrong-way include, on an unqualified include and on a leaf library that
# reaches up; and pass on a tree that keeps the rules.
set -euo pipefail
check=$1
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$t/shm" "$t/feeds/net" "$t/gateway" "$t/pipeline/journal"
echo '#include <stdio.h>' >"$t/shm/ring.h"
printf '#include "shm/ring.h"\n' >"$t/gateway/ok.c"
echo 'struct x;' >"$t/gateway/risk.h"
"$check" "$t" >/dev/null || { echo "a clean tree was refused"; exit 1; }

expect() { # what, expected text
  if out=$("$check" "$t" 2>&1); then echo "accepted: $1"; exit 1; fi
  grep -qF -- "$2" <<<"$out" || { echo "for $1, want '$2' in: $out"; exit 1; }
}
printf '\n#include "gateway/risk.h"\n' >"$t/shm/bad.c"
expect "shm including gateway" 'shm/bad.c:2: include "gateway/risk.h": shm/* may include only shm/'
rm "$t/shm/bad.c"
printf '#include "ring.h"\n' >"$t/gateway/short.c"
expect "an unqualified include" 'gateway/short.c:1: include "ring.h": not a path from the repository root'
rm "$t/gateway/short.c"
printf '#include "shm/ring.h"\n' >"$t/feeds/net/tls.c"
expect "feeds/net reaching the trading vocabulary" 'feeds/net/tls.c:1: include "shm/ring.h": feeds/net/* may include only feeds/net/'
rm "$t/feeds/net/tls.c"
printf '#include "gateway/risk.h"\n' >"$t/pipeline/journal/j.c"
expect "the journal including gateway" 'pipeline/journal/j.c:1: include "gateway/risk.h": pipeline/journal/*'
rm "$t/pipeline/journal/j.c"
mkdir -p "$t/pipeline/cli"
echo 'int x;' >"$t/pipeline/cli/options.h"
printf '#include "pipeline/cli/options.h"\n#include "gateway/risk.h"\n' >"$t/pipeline/cli/options.c"
expect "the option parser reaching up" 'pipeline/cli/options.c:2: include "gateway/risk.h": pipeline/cli/options.* may include only pipeline/cli/options.h'
echo "check-layers refuses all five"
