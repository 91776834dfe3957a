#!/usr/bin/env bash
# local.sh - a Redis Cluster of three masters and three replicas on this
# machine's loopback, for trailsight workers of one group (no containers).
#
#   deploy/cluster/local.sh start DIR [PORT]   six nodes on 127.0.0.1, ports
#                                              PORT..PORT+5 (default 7001),
#                                              data and logs under DIR
#   deploy/cluster/local.sh stop DIR           stop them (the data stays)
#
# start prints the --store URL. Then run the same command once per worker:
#   trailsight backfill --group org --store URL /data/AWSLogs
# Each node uses deploy/cluster/redis-node.conf (append-only file, no
# eviction, failover after 5 s). Needs redis-server and redis-cli
# (tools/install-deps.sh). Exit 0, or 1 with the reason on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "local.sh: $*" >&2; [ -z "${started:-}" ] || stop "$started"; exit 1; }

start() {
  local dir=$1 port=${2:-7001}
  case "$port" in ''|*[!0-9]*) die "PORT must be a number (got '$port')" ;; esac
  [ "$port" -ge 1024 ] && [ "$port" -le 65530 ] || die "PORT must be 1024..65530"
  command -v redis-server >/dev/null || die "redis-server is missing (tools/install-deps.sh)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local addrs=()
  # each node also listens on its port + 10000 (the cluster bus)
  for i in 0 1 2 3 4 5; do
    for q in $((port + i)) $((port + i + 10000)); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$q") 2>/dev/null; then
        die "port $q on 127.0.0.1 is in use (a node needs PORT..PORT+5 and those + 10000)"
      fi
    done
  done
  echo "$port" > "$dir/base-port"
  started=$dir # from here a failure stops the nodes again
  for i in 0 1 2 3 4 5; do
    local p=$((port + i)) d="$dir/node-$((port + i))"
    mkdir -p "$d"
    redis-server "$here/redis-node.conf" --port "$p" --bind 127.0.0.1 --dir "$d" \
      --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log"
    addrs+=("127.0.0.1:$p")
  done
  for i in 0 1 2 3 4 5; do
    local p=$((port + i)) n=0
    until redis-cli -p "$p" ping >/dev/null 2>&1; do
      n=$((n + 1)); [ "$n" -lt 100 ] || die "node on port $p did not start (see $dir/node-$p/redis.log)"
      sleep 0.1
    done
  done
  if ! redis-cli -p "$port" cluster info | grep -q cluster_state:ok; then
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
      die "redis-cli --cluster create failed (see $dir/create.log)"
  fi
  local n=0
  # every node agrees: all slots served, three masters with a replica each
  for i in 0 1 2 3 4 5; do
    until redis-cli -p "$((port + i))" cluster info | grep -q cluster_state:ok &&
      [ "$(redis-cli -p "$((port + i))" cluster nodes | grep -c slave)" = 3 ]; do
      n=$((n + 1)); [ "$n" -lt 300 ] || die "the cluster did not settle (three masters, three replicas)"
      sleep 0.1
    done
  done
  echo "redis-cluster://127.0.0.1:$port,127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2))"
}

stop() {
  local dir=$1
  [ -f "$dir/base-port" ] || die "$dir: no cluster started here (no base-port file)"
  local port
  port=$(cat "$dir/base-port")
  for i in 0 1 2 3 4 5; do
    redis-cli -p "$((port + i))" shutdown >/dev/null 2>&1 || true
  done
}

case "${1:-}" in
  start) [ $# -ge 2 ] || die "usage: local.sh start DIR [PORT]"; start "$2" "${3:-7001}" ;;
  stop) [ $# -eq 2 ] || die "usage: local.sh stop DIR"; stop "$2" ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "usage: local.sh start DIR [PORT] | stop DIR (see --help)" ;;
esac
