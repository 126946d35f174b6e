# Sourced by the benchmark scripts: a work directory, servers started in the background on free
# loopback ports and stopped by their process ids, everything removed on exit.
#   bench_work NAME     makes $work (under the project, .bench-tmp-NAME.*) and the exit trap
#   free_port           prints a free 127.0.0.1 port
#   wait_port PORT      waits up to 10 s for a server to accept connections on it
#   start CMD...        starts CMD in the background, output to $work/servers.log; its pid in $server
#   stop PID            stops a server and waits for it
pids=()
bench_work() {
    work=$(mktemp -d "${PWD}/.bench-tmp-$1.XXXXXX")
    trap bench_cleanup EXIT
}
bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): nothing listening on 127.0.0.1:$1 after 10 s" >&2
    return 1
}
start() { "$@" >>"$work/servers.log" 2>&1 & server=$!; pids+=("$server"); }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
