#!/usr/bin/env bash
# librdkafka's own integration test suite (v2.15, ../shared/librdkafka) run against `spool serve`.
#
#   Tests/Conformance/librdkafka.sh                  # the tests of librdkafka-allow.txt; exit 1 if one fails
#   Tests/Conformance/librdkafka.sh --only 0030,0082 # chosen tests (mode from the allow-list, else the default)
#   Tests/Conformance/librdkafka.sh --discover       # every test that can talk to a single broker: a table
#   Tests/Conformance/librdkafka.sh --build-only     # build librdkafka's test-runner (cached) and stop
#
# Options: --mode quick|full (override each test's mode), --timeout SECONDS (override each test's
# timeout), --repeat N (run the selection N times; a test passes only if it passes every time),
# --jobs N (tests run at once, default 3 or SPOOL_LIBRDKAFKA_JOBS).
#
# Environment:
#   SPOOL_LIBRDKAFKA_SRC    librdkafka source tree (default: ../shared/librdkafka beside the repo)
#   SPOOL_LIBRDKAFKA_BUILD  build cache outside the repo (default: ~/.cache/spool-librdkafka);
#                           rebuilt only when missing or built with other configure flags
#   SPOOL_LIBRDKAFKA_LOGS   where each test's log and the broker's log go (default: a new folder
#                           under BUILD/logs; the 5 newest are kept)
#   SPOOL_BIN               a spool binary to use instead of building .build/release/spool
#   TEST_KAFKA_VERSION      the broker version the suite assumes (default 3.9.0, see below)
#
# TEST_KAFKA_VERSION is 3.9.0: the suite enables or skips tests and sub-tests by broker version, and
# Spool serves every version Kafka 3.9 serves of the APIs it implements (docs/protocol.md), so the
# suite runs everything it would run against Kafka 3.9.
#
# Each test runs in its own test-runner process (-p1), three at a time (--jobs), with CI=true,
# which makes librdkafka's suite triple its own timeouts and use request.timeout.ms=10000: the
# machine is shared and small, and the same setting holds on a developer's machine and in CI.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src=${SPOOL_LIBRDKAFKA_SRC:-$repo/../shared/librdkafka}
build=${SPOOL_LIBRDKAFKA_BUILD:-$HOME/.cache/spool-librdkafka}
logs=${SPOOL_LIBRDKAFKA_LOGS:-$build/logs/$(date +%Y%m%d-%H%M%S)-$$}
allow=$repo/Tests/Conformance/librdkafka-allow.txt
kafka_version=${TEST_KAFKA_VERSION:-3.9.0}
# No SASL, libcurl or zstd: Spool serves plaintext only, and each is one more package to install.
# zlib stays so that gzip-compressed batches are exercised (zlib1g-dev); RapidJSON (rapidjson-dev)
# lets the tests that read the client's statistics run; OpenSSL (libssl-dev) is built in because
# 0064 checks that a client configured for TLS can be made (it never connects with it).
configure_flags="--no-download --disable-curl --disable-sasl --enable-ssl --disable-zstd --disable-lz4-ext --enable-zlib"

# Tests that never reach a broker able to run them here, with the reason (also in docs/protocol.md).
declare -A out_of_reach=(
    [0028]="upstream known issue (skipped by the runner); needs kafka-topics.sh"
    [0047]="upstream known issue (skipped by the runner)"
    [0052]="shells out to kafka-topics.sh (KAFKA_PATH)"
    [0077]="shells out to kafka-topics.sh (KAFKA_PATH) for a compacted topic"
    [0097]="TLS: this build has no SSL, Spool no TLS listener"
    [0109]="shells out to kafka-acls.sh"
    [0115]="shells out to kafka-acls.sh (ACLs)"
    [0119]="shells out to kafka-acls.sh (ACLs)"
    [0126]="SASL/OAUTHBEARER OIDC (broker 3.1+)"
    [0135]="SASL credentials"
    [0142]="SASL re-authentication"
)
for n in 0170 0171 0172 0173 0174 0175 0176 0177 0178 0179 0180 0181 0184 0185; do
    out_of_reach[$n]="share groups (KIP-932, broker 4.2)"
done

# Default mode where the allow-list does not say: full where -Q would skip the sub-tests that talk
# to the broker (SUB_TEST() without _QUICK returns at once under -Q), quick elsewhere.
full_by_default=" 0018 0019 0026 0045 0050 0055 0061 0082 0089 0102 0110 0116 0122 0127 0132 0137 0145 0150 "

mode_override="" timeout_override="" only="" discover=0 build_only=0 repeat=1 jobs=${SPOOL_LIBRDKAFKA_JOBS:-3}
while [ $# -gt 0 ]; do
    case "$1" in
        --discover) discover=1 ;;
        --only) only=$2; shift ;;
        --mode) mode_override=$2; shift ;;
        --timeout) timeout_override=$2; shift ;;
        --repeat) repeat=$2; shift ;;
        --jobs) jobs=$2; shift ;;
        --build-only) build_only=1 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# ---------------------------------------------------------------------------------------------
# librdkafka's test-runner, built once into $build (outside the repo).
runner_dir=$build/src/tests
build_runner() {
    # RapidJSON (rapidjson-dev, headers only) is found by configure on its own; the tests that check
    # the statistics JSON (0053 0110, ...) skip without it, so a build made without it is redone
    # once it is installed.
    local rapidjson=no
    [ -f /usr/include/rapidjson/schema.h ] && rapidjson=yes
    local stamp="$configure_flags rapidjson=$rapidjson $(grep -m1 'define RD_KAFKA_VERSION ' "$src/src/rdkafka.h" | awk '{print $3}')"
    if [ -x "$runner_dir/test-runner" ] && [ "$(cat "$build/stamp" 2>/dev/null)" = "$stamp" ]; then
        return
    fi
    [ -d "$src/src" ] || { echo "librdkafka source not found at $src (set SPOOL_LIBRDKAFKA_SRC)" >&2; exit 1; }
    echo "== building librdkafka's test-runner into $build (2 to 4 minutes on 2 cores)"
    local started=$SECONDS
    rm -rf "$build/src" "$build/stamp"
    cp -r "$src" "$build/src"
    chmod -R u+w "$build/src"
    # shellcheck disable=SC2086
    if ! (cd "$build/src" && ./configure $configure_flags && make -j2 libs && make -j2 -C tests build) \
        > "$build/build.log" 2>&1; then
        tail -40 "$build/build.log"
        echo "librdkafka build failed; log: $build/build.log" >&2
        exit 1
    fi
    echo "$stamp" > "$build/stamp"
    echo "built in $((SECONDS - started)) s"
}
mkdir -p "$build"
exec 9> "$build/lock"
flock 9  # one build at a time; runs that share the cache wait for it
build_runner
flock -u 9
[ "$build_only" -eq 1 ] && exit 0

# ---------------------------------------------------------------------------------------------
# What to run: "NUM MODE TIMEOUT KIND" lines.
allow_entries() { sed 's/#.*//' "$allow" | awk 'NF >= 1 {print $1, $2, $3, $4}'; }
allow_entry() { allow_entries | awk -v n="$1" '$1 == n'; }

# Test numbers of the suite and whether each does broker work: a number is local when every test
# registered under it is TEST_F_LOCAL or runs on librdkafka's mock cluster (name ends in _mock).
suite_numbers() {
    python3 - "$src/tests/test.c" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
table = text[text.index("struct test tests[] = {"):]
table = table[:table.index("{NULL}")]
kinds = {}
for name, flags in re.findall(r"_TEST\(\s*(\w+)\s*,\s*([^,)]*)", table):
    num = name[:4]
    if "TEST_F_MANUAL" in flags:
        kinds.setdefault(num, set()).add("manual")
    elif "TEST_F_LOCAL" in flags or "mock" in name:
        kinds.setdefault(num, set()).add("local")
    else:
        kinds.setdefault(num, set()).add("broker")
for num in sorted(kinds):
    k = kinds[num]
    print(num, "broker" if "broker" in k else ("local" if "local" in k else "manual"))
EOF
}

selection=()
if [ -n "$only" ]; then
    for n in ${only//,/ }; do selection+=("$n"); done
elif [ "$discover" -eq 1 ]; then
    while read -r n kind; do
        [ "$kind" = broker ] || continue
        [ -n "${out_of_reach[$n]:-}" ] && continue
        selection+=("$n")
    done < <(suite_numbers)
else
    # Longest first (by timeout), so that the long tests do not run last, alone.
    while read -r n _; do selection+=("$n"); done < <(allow_entries | sort -s -k3,3nr)
fi
[ "${#selection[@]}" -gt 0 ] || { echo "nothing to run" >&2; exit 2; }
declare -A kind_of
while read -r n kind; do kind_of[$n]=$kind; done < <(suite_numbers)

# ---------------------------------------------------------------------------------------------
# spool serve on a free loopback port, stopped by PID at exit.
cd "$repo"
if [ -n "${SPOOL_BIN:-}" ]; then
    spool=$SPOOL_BIN
else
    swift build -c release --product spool > /dev/null
    spool=$repo/.build/release/spool
fi
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.result
if [ -z "${SPOOL_LIBRDKAFKA_LOGS:-}" ]; then
    find "$build/logs" -mindepth 1 -maxdepth 1 -type d | sort | head -n -5 | xargs -r rm -rf
fi
data=$(mktemp -d "${TMPDIR:-/tmp}/spool-librdkafka.XXXXXX")
serve=""
cleanup() {
    if [ -n "$serve" ] && kill -0 "$serve" 2>/dev/null; then
        kill -TERM "$serve" 2>/dev/null || true
        wait "$serve" 2>/dev/null || true
    fi
    rm -rf "$data"
    rm -f "$runner_dir"/stats_*.json  # the runner writes each test's statistics into its directory
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# --partitions 4: the suite's default scenario (tests/scenarios/default.json) is a broker that
# auto-creates topics with 4 partitions; several tests produce to partitions 1-3 of such a topic.
"$spool" serve --data "$data/serve" --listen "127.0.0.1:$port" --http 127.0.0.1:0 --partitions 4 > "$logs/spool-serve.log" 2>&1 &
serve=$!
for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
    kill -0 "$serve" 2>/dev/null || { cat "$logs/spool-serve.log"; echo "spool serve exited" >&2; exit 1; }
    sleep 0.1
done
printf 'bootstrap.servers=127.0.0.1:%s\n' "$port" > "$logs/test.conf"
echo "== librdkafka suite against spool serve on 127.0.0.1:$port (TEST_KAFKA_VERSION=$kafka_version)"

# ---------------------------------------------------------------------------------------------
# One test number in its own test-runner. Sets: result (PASS FAIL TIMEOUT SKIP), seconds, ran.
run_one() {
    local num=$1 mode=$2 limit=$3 seed=$4 log=$logs/$1.log
    local args=(-p1)
    [ "$mode" = quick ] && args+=(-Q)
    # -L leaves out the local and mock-cluster tests registered under the same number (0031_mock,
    # 0045_subscribe_update_mock, ...): they say nothing about Spool and some take minutes.
    [ "${kind_of[$num]:-}" = broker ] && args+=(-L)
    local started=$SECONDS rc=0
    echo "TEST_SEED=$seed" > "$log"
    (cd "$runner_dir" && RDKAFKA_TEST_CONF="$logs/test.conf" TESTS=$num TEST_KAFKA_VERSION=$kafka_version TEST_SEED=$seed \
        CI=true LD_LIBRARY_PATH=../src:../src-cpp timeout -k 10 "$limit" ./test-runner "${args[@]}"; exit $?) \
        >> "$log" 2>&1 || rc=$?
    seconds=$((SECONDS - started))
    # The runner's summary: "| NAME | STATE | 1.234s |" per test it selected.
    local states
    states=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -F'|' 'NF >= 4 && $3 ~ /PASSED|FAILED|SKIPPED|RUNNING/ {gsub(/ /, "", $2); gsub(/ /, "", $3); sub(/^ +/, "", $5); print $2, $3, $5}' | grep -v '^<MAIN>' || true)
    ran=$(echo "$states" | awk '$2 == "PASSED" {printf "%s%s", sep, $1; sep=","}')
    # Why the tests under this number were skipped, when none ran (the local ones left out by -L aside).
    skipped_why=$(echo "$states" | awk '$2 == "SKIPPED" && $0 !~ /negative test flags/ {$1 = ""; $2 = ""; sub(/^ +/, ""); printf "%s%s", sep, $0; sep="; "}')
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then result=TIMEOUT
    elif [ "$rc" -ne 0 ]; then result=FAIL
    elif [ -z "$ran" ]; then result=SKIP
    else result=PASS
    fi
}

declare -A mode_of timeout_of
for n in "${selection[@]}"; do
    entry=$(allow_entry "$n")
    if [ -n "$entry" ]; then
        read -r _ m t _ <<< "$entry"
    else
        if [[ "$full_by_default" == *" $n "* ]]; then m=full; else m=quick; fi
        t=300
    fi
    mode_of[$n]=${mode_override:-$m}
    timeout_of[$n]=${timeout_override:-$t}
done

# Tests run $jobs at a time, each in its own test-runner, against the one broker: librdkafka's own
# runner does the same (3 at a time under CI=true); every test makes its own topics and groups.
# Most of the suite's time is spent waiting (session timeouts, max.poll.interval.ms, linger): the
# allow-list takes about 17 minutes one at a time, 8.5 two at a time, 5.5 three at a time.
# Each runner gets a seed of its own (TEST_SEED, written at the top of its log to replay a run):
# the runner draws its group ids and topic names from rand() seeded with it, and when left to
# seed itself from the clock, two runners started together have drawn the same ids, so that
# 0033's consumer joined 0045's group, which never rebalanced for it (its member had stopped
# polling), and both tests failed. Seeds a prime apart from a random base are all different.
seed_base=$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000000 + 1 ))
launches=0
launch() { # NUM ROUND: run one test in the background; it prints its line and leaves a .result file
    local n=$1 round=$2
    local seed=$(( seed_base + launches * 7919 ))
    launches=$((launches + 1))
    (
        trap - EXIT
        run_one "$n" "${mode_of[$n]}" "${timeout_of[$n]}" "$seed"
        mv "$logs/$n.log" "$logs/$n.r$round.log"
        printf '%-7s %s %-5s %4ss  %-6s %s\n' "$result" "$n" "${mode_of[$n]}" "$seconds" \
            "${kind_of[$n]:-unknown}" "${ran:-${skipped_why:--}}"
        echo "$n $round ${mode_of[$n]} $result $seconds ${kind_of[$n]:-unknown}" > "$logs/$n.r$round.result"
    ) &
    pids+=($!)
}
running() { # how many launched tests are still running; forgets the finished ones
    local alive=() p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    pids=("${alive[@]}")
    echo "${#pids[@]}"
}
pids=()
total_started=$SECONDS
for round in $(seq 1 "$repeat"); do
    [ "$repeat" -gt 1 ] && echo "-- round $round of $repeat"
    for n in "${selection[@]}"; do
        while [ "$(running)" -ge "$jobs" ]; do wait -n "${pids[@]}" 2>/dev/null || true; done
        launch "$n" "$round"
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
done
# A test that aborts in librdkafka's own assignment teardown hit a race in the client, not a broker
# answer: two FETCH_STOPs for one partition, the second asserting in
# rd_kafka_assignment_partition_stopped (librdkafka issue #5573, fixed upstream by #5574, after the
# v2.15 this suite is; 0051 met it once in many runs). Such a test runs once more and the second
# run's result counts; the first run's log stays beside it, and the summary names it.
client_race="rd_kafka_assignment_partition_stopped: Assertion"
retried=()
for round in $(seq 1 "$repeat"); do
    for n in "${selection[@]}"; do
        [ -f "$logs/$n.r$round.result" ] || continue
        read -r _ _ _ result _ _ < "$logs/$n.r$round.result"
        if [ "$result" = FAIL ] && grep -qF "$client_race" "$logs/$n.r$round.log"; then
            mv "$logs/$n.r$round.log" "$logs/$n.r$round.client-race.log"
            mv "$logs/$n.r$round.result" "$logs/$n.r$round.client-race.result"
            echo "$n aborted in librdkafka's assignment teardown (a client race, librdkafka #5573): run once more"
            retried+=("$n.r$round")
            launch "$n" "$round"
        fi
    done
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
if ! kill -0 "$serve" 2>/dev/null; then
    echo "spool serve died; its log ends:"; tail -20 "$logs/spool-serve.log"; exit 1
fi

passed=0 failed=0 skipped=0 failures=() table=()
for round in $(seq 1 "$repeat"); do
    for n in "${selection[@]}"; do
        if [ -f "$logs/$n.r$round.result" ]; then
            read -r _ _ m result secs kind < "$logs/$n.r$round.result"
        else
            m=${mode_of[$n]} result=ERROR secs=0 kind=${kind_of[$n]:-unknown}
        fi
        table+=("$n $m $result $secs $kind")
        case "$result" in
            PASS) passed=$((passed + 1)) ;;
            SKIP) skipped=$((skipped + 1)); [ "$discover" -eq 1 ] || failures+=("$n.r$round") ;;
            *) failed=$((failed + 1)); failures+=("$n.r$round") ;;
        esac
    done
done

if [ "$discover" -eq 1 ]; then
    echo
    echo "| test | mode | result | seconds | kind |"
    echo "| --- | --- | --- | --- | --- |"
    for row in "${table[@]}"; do read -r n m r secs k <<< "$row"; echo "| $n | $m | $r | $secs | $k |"; done
    echo "out of reach, not run: $(printf '%s\n' "${!out_of_reach[@]}" | sort | tr '\n' ' ')"
fi

for f in "${failures[@]}"; do
    echo
    echo "---- ${f%.r*} failed (${mode_of[${f%.r*}]}); the end of its log ($logs/$f.log):"
    sed 's/\x1b\[[0-9;]*m//g' "$logs/$f.log" | grep -vE '^\s*$' | tail -25
done
[ "${#failures[@]}" -gt 0 ] && { echo; echo "---- spool serve log ends:"; tail -15 "$logs/spool-serve.log"; }

echo
[ "${#retried[@]}" -gt 0 ] && echo "run again after librdkafka's assignment race (#5573): ${retried[*]}"
echo "librdkafka suite: $((SECONDS - total_started)) s, logs in $logs"
echo "librdkafka: $passed passed, $failed failed, $skipped skipped"
if [ "$discover" -eq 1 ]; then exit 0; fi
[ "${#failures[@]}" -eq 0 ]
