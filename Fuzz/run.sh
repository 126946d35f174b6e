#!/usr/bin/env bash
# Builds one libFuzzer target with AddressSanitizer and runs it for a bounded time from its seed
# corpus. Usage: Fuzz/run.sh request|batch|router [seconds, default 60] [extra libFuzzer flags...]
#   request: request frames through DecodedRequest.decode (the server's decoder) and the batch
#            checks a produce request reaches; batch: bytes through the record-batch validators and
#            record decoding; router: request frames through the server's whole request path
#            (decode, dispatch, a real broker whose data is in .build-fuzz/router-data, cleared first).
# The corpus grows in .build-fuzz/corpus/<target> (seeded by the target's --write-seeds) and a
# crashing input is written to .build-fuzz/findings/<target>/ (not artifacts/, which SwiftPM
# owns); the exit status is nonzero when libFuzzer finds a crash, a leak, a timeout or runs out of
# memory.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-}
seconds=${2:-60}
case "$target" in
    request|batch|router) ;;
    *) echo "usage: Fuzz/run.sh request|batch|router [seconds] [libFuzzer flags...]" >&2; exit 64 ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "seconds must be a whole number, not '$seconds'" >&2; exit 64; }
shift $(( $# >= 2 ? 2 : 1 ))

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
scratch=.build-fuzz
# ld.gold warns about every ASan register helper it cannot export; nothing else is filtered.
swift build -c debug --scratch-path "$scratch" --product "spool-fuzz-$target" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING 2>&1 \
    | { grep -v "warning: Cannot export local symbol '__asan" || true; }
binary="$scratch/debug/spool-fuzz-$target"
[ -x "$binary" ] || { echo "build of spool-fuzz-$target failed" >&2; exit 1; }

corpus="$scratch/corpus/$target"
findings="$scratch/findings/$target"
mkdir -p "$corpus" "$findings"
"$binary" --write-seeds "$corpus"
export SPOOL_FUZZ_DATA="$PWD/$scratch/router-data"
rm -rf "$SPOOL_FUZZ_DATA"
# -timeout: one input taking longer is a hang. A router input may legitimately take seconds in this
# sanitizer build (CreateTopics of thousands of partitions creates and syncs thousands of files),
# so it gets 60 s; the decoders get 10. -rss_limit_mb bounds memory; -max_len lets a produce
# request carry a few batches.
timeout_s=10
[ "$target" = router ] && timeout_s=60
"$binary" "$corpus" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$findings/" -print_final_stats=1 "$@"
