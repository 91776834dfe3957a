# lib.sh - helpers for the CLI tests (sourced, not run).
# Each test script: source lib.sh, call ok/fail through check, end with finish;
# what cannot run is reported with skip, never passed over in silence.
set -euo pipefail
: "${TRAILSIGHT:?set TRAILSIGHT to the trailsight binary}"
: "${TS_SOURCE_DIR:?set TS_SOURCE_DIR to the source tree}"
TS_SHARED_DIR=${TS_SHARED_DIR:-$TS_SOURCE_DIR/../shared}
export TRAILSIGHT_MODELS=$TS_SOURCE_DIR/models
tmp=$(mktemp -d)
trap "[ -n \"${KEEP_TMP:-}\" ] || rm -rf \"$tmp\"" EXIT
passed=0
failed=0

# check "what" command...: runs the command; passes when it exits 0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what" >&2
  fi
}

# skip "why": a part of the test cannot run (a missing tool or sample);
# the other checks still run, and finish reports the test as skipped
# (exit 77, ctest's SKIP_RETURN_CODE) unless one of them failed
skipped=()
skip() {
  skipped+=("$1")
  echo "SKIP: $1" >&2
}

# no_decision [FILE...]: insight NDJSON without the decision times of the
# Starts (trailsightContext decisionEventTime, decisionWallTime, early),
# which differ between a backfill and a stream, and between streams, by
# design; every other byte kept
no_decision() {
  sed -E 's/,"decisionEventTime":"[^"]*"(,"decisionWallTime":"[^"]*")?(,"early":true)?//' "$@"
}

finish() {
  echo "$passed passed, $failed failed, ${#skipped[@]} skipped"
  [ "$failed" -eq 0 ] || exit 1
  if [ ${#skipped[@]} -gt 0 ]; then
    printf 'SKIP: %s\n' "${skipped[@]}"
    exit 77
  fi
}

# Private redis-server instances: redis_start DIR [redis-server args...]
# starts one on a free loopback port with its files in DIR, sets
# redis_port, and registers it to be stopped at exit.
redis_pids=()
cleanup() {
  local p
  for p in "${redis_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

redis_start() {
  local dir=$1 p try i pid
  shift
  command -v redis-server >/dev/null ||
    { echo "redis-server is not installed (tools/install-deps.sh)" >&2; return 1; }
  mkdir -p "$dir"
  for try in $(seq 1 20); do
    p=$((20000 + RANDOM % 20000))
    rm -f "$dir/redis.pid" "$dir/redis.log"
    if redis-server --port "$p" --bind 127.0.0.1 --save "" --dir "$dir" --daemonize yes \
         --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@" >/dev/null 2>&1; then
      # the server on the port must be this one: a daemon that could not
      # bind exits, and another test's server may answer the PING
      for i in $(seq 1 50); do
        pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && [ "$(redis-cli -p "$p" info server 2>/dev/null |
               awk -F: '$1 == "process_id" {print $2+0}')" = "$pid" ]; then
          redis_port=$p
          redis_pids+=("$pid")
          return 0
        fi
        grep -q "Address already in use" "$dir/redis.log" 2>/dev/null && break
        sleep 0.1
      done
    fi
  done
  echo "could not start redis-server" >&2
  return 1
}

# s3rver_find: the s3rver binary (from npm; tools/install-deps.sh puts it
# under /opt/trailsight-node; TS_S3RVER overrides) into s3rver, or empty.
s3rver_find() {
  local c
  s3rver=${TS_S3RVER:-}
  [ -n "$s3rver" ] && return 0
  for c in "${TS_NODE_PREFIX:-/opt/trailsight-node}/node_modules/.bin/s3rver" "$(command -v s3rver || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && { s3rver=$c; return 0; }
  done
}

# s3rver_start DIR LOG: s3rver serving DIR with a bucket "trail" on a free
# loopback port; sets s3pid and s3port (s3pid empty when it did not start).
# The caller stops it. DES (its continuation tokens) needs OpenSSL's legacy
# provider under Node 17 and later.
s3rver_start() {
  local dir=$1 log=$2 try i
  mkdir -p "$dir"
  s3pid=
  for try in $(seq 1 10); do
    s3port=$((20000 + RANDOM % 20000))
    NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -d "$dir" -a 127.0.0.1 -p "$s3port" \
      --configure-bucket trail > "$log" 2>&1 &
    s3pid=$!
    for i in $(seq 1 100); do
      grep -q "listening on 127.0.0.1:$s3port" "$log" && return 0
      kill -0 "$s3pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$s3pid" 2>/dev/null || true
    wait "$s3pid" 2>/dev/null || true
    s3pid=
  done
  return 1
}

# s3_upload TREE URL: every file below TREE/AWSLogs put at URL/AWSLogs/...
# (signed with SigV4 by curl, s3rver's keys), eight at a time.
s3_upload() {
  local tree=$1 url=$2
  {
    echo 'aws-sigv4 = "aws:amz:us-east-1:s3"'
    echo 'user = "S3RVER:S3RVER"'
    echo 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"'
    echo 'silent'
    echo 'fail'
    (cd "$tree" && find AWSLogs -type f | sort) | while read -r k; do
      echo "url = \"$url/$k\""
      echo "upload-file = \"$tree/$k\""
      echo 'output = "/dev/null"'
    done
  } > "$tmp/up.cfg"
  curl -sS --no-progress-meter --parallel --parallel-max 8 -K "$tmp/up.cfg"
}

# A private Redis Cluster: redis_cluster_start DIR N [R] starts N masters
# (redis-server --cluster-enabled yes) and R replicas of each (default 0;
# with replicas a node is failed over after 2 s of silence) on free
# loopback ports whose bus ports (+10000) are free too, joins them with
# redis-cli --cluster create, waits for cluster_state:ok on every node and
# every replica's link to its master, sets cluster_ports (an array, every
# node; redis_cluster_masters says which are masters now) and registers the
# nodes to be stopped at exit. Fails (never skips) when redis-server lacks
# cluster support.
cluster_ports=()
redis_cluster_start() {
  local dir=$1 n=$2 r=${3:-0} i p try ok addrs=() extra=()
  [ "$r" = 0 ] || extra=(--cluster-node-timeout 2000 --repl-diskless-sync-delay 0)
  for i in $(seq 0 $((n * (r + 1) - 1))); do
    mkdir -p "$dir/n$i"
    ok=""
    for try in $(seq 1 20); do
      p=$((20000 + RANDOM % 20000))
      # the bus port must be free too
      (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null && continue
      rm -f "$dir/n$i/redis.pid"
      if redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no \
           --cluster-enabled yes --cluster-config-file nodes.conf --dir "$dir/n$i" \
           --daemonize yes --pidfile "$dir/n$i/redis.pid" --logfile "$dir/n$i/redis.log" \
           "${extra[@]}" >/dev/null 2>&1; then
        for try in $(seq 1 50); do
          if redis-cli -p "$p" ping >/dev/null 2>&1; then ok=1; break; fi
          sleep 0.1
        done
      fi
      if [ -n "$ok" ]; then
        redis_pids+=("$(cat "$dir/n$i/redis.pid")")
        cluster_ports+=("$p")
        addrs+=("127.0.0.1:$p")
        break
      fi
    done
    [ -n "$ok" ] || { echo "could not start a cluster node" >&2; return 1; }
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$r" --cluster-yes \
    > "$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; return 1; }
  for try in $(seq 1 300); do
    ok=1
    for p in "${cluster_ports[@]}"; do
      redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=""
      redis-cli -p "$p" info replication 2>/dev/null |
        grep -q -e '^role:master' -e '^master_link_status:up' || ok=""
    done
    [ -n "$ok" ] && [ "$(redis_cluster_masters | wc -l)" = "$n" ] && return 0
    sleep 0.1
  done
  echo "the cluster did not reach cluster_state:ok" >&2
  return 1
}

# redis_cluster_masters: the ports of the nodes of cluster_ports that
# answer and call themselves a master now, one a line
redis_cluster_masters() {
  local p
  for p in "${cluster_ports[@]}"; do
    redis-cli -p "$p" cluster nodes 2>/dev/null | grep -q 'myself,master' && echo "$p"
  done
  return 0
}

# redis_leases_checkpointed HOLDER PORT...: "PORT KEY" of each lease key
# (ts:{P}:lease) on the nodes given whose value ends in ":HOLDER" and whose
# partition has a saved state (checkpointed), one a line
redis_leases_checkpointed() {
  local who=$1 p
  shift
  for p in "$@"; do
    redis-cli -p "$p" --raw eval "
      local out = {}
      for _, k in ipairs(redis.call('KEYS', 'ts:{*}:lease')) do
        local v = redis.call('GET', k)
        local st = string.sub(k, 1, -6) .. 'state'
        if v and string.sub(v, -#ARGV[1] - 1) == ':' .. ARGV[1] and
           redis.call('EXISTS', st) == 1 then out[#out + 1] = k end
      end
      return out" 0 "$who" | sed "/^\$/d; s/^/$p /"
  done
  return 0
}

# redis_cluster_dump_counts PORT...: every count cell of the masters given,
# as redis_dump_counts prints them (each node's own keys), merged, sorted
# (a master left with no count key prints an empty line: dropped).
redis_cluster_dump_counts() {
  local p
  for p in "$@"; do redis_dump_counts "$p" 0; done | sed '/^$/d' | LC_ALL=C sort
}

# redis_dump_counts PORT DB: every count cell as "KEY FIELD COUNT", sorted.
redis_dump_counts() {
  redis-cli -p "$1" -n "$2" --raw eval "
    local out = {}
    for _, k in ipairs(redis.call('KEYS', 'ts:{*}:c:*')) do
      local h = redis.call('HGETALL', k)
      for i = 1, #h, 2 do out[#out + 1] = k .. ' ' .. h[i] .. ' ' .. h[i + 1] end
    end
    return out" 0 | LC_ALL=C sort
}
