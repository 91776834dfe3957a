#!/usr/bin/env bash
# deploy.sh - the files in deploy/ hold together: the systemd unit passes
# systemd-analyze verify (with ExecStart pointed at the built binary), its
# ExecStart options are ones trailsight accepts, the compose file parses
# and runs trailsight stream next to redis-server, the cluster compose file
# runs two workers of one group on three masters with a replica each,
# deploy/cluster/local.sh starts such a cluster and two backfill workers
# over it give the memory store's insights, and the Containerfile copies
# only paths that exist. Without systemd-analyze or python3-yaml the
# checks that need them are reported as skipped (exit 77).
source "$(dirname "$0")/lib.sh"
d=$TS_SOURCE_DIR/deploy

if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/trailsight|$TRAILSIGHT|" "$d/trailsight.service" > "$tmp/trailsight.service"
  check "systemd-analyze verify accepts the unit" \
    bash -c "SYSTEMD_LOG_LEVEL=warning systemd-analyze verify '$tmp/trailsight.service' 2> '$tmp/verify.err'; \
             ! grep -v -e 'Failed to open .*trailsight.env' -e '^$' '$tmp/verify.err' | grep ."
  cat "$tmp/verify.err" >&2 || true
  score=$(systemd-analyze security --offline=true "$tmp/trailsight.service" 2>/dev/null |
    awk '/Overall exposure level/ {print $(NF - 2)}')
  echo "systemd-analyze security: exposure ${score:-n/a}"
  check "systemd-analyze security gives an exposure level" test -n "$score"
  check "hardened: exposure level below 3.0 (${score:-none})" \
    awk -v s="${score:-99}" 'BEGIN {exit !(s < 3.0)}'
else
  skip "systemd-analyze is not installed (package systemd, tools/install-deps.sh): unit not verified"
fi

# the options ExecStart and the container use exist
check "the unit's options are accepted" bash -c "
  out=\$('$TRAILSIGHT' stream --watch /nonexistent --store mem --out - --metrics-file /dev/null \
        --spool-dir '$tmp/spool' 2>&1); echo \"\$out\" | grep -q \"cannot watch '/nonexistent'\""
check "the env file sets every variable ExecStart uses" bash -c "
  for v in \$(grep -o '\${TRAILSIGHT_[A-Z]*}' '$d/trailsight.service' | tr -d '\${}' | sort -u); do
    grep -q \"^\$v=\" '$d/trailsight.env' || { echo \"missing \$v\" >&2; exit 1; }
  done"

if python3 -c 'import yaml' 2>/dev/null; then
  check "compose.yaml: trailsight stream with redis" python3 - "$d/compose.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
assert "redis" in s and "trailsight" in s
cmd = s["trailsight"]["command"]
assert cmd[0] == "stream" and "--watch" in cmd and "redis://redis:6379/0" in cmd
assert "appendonly" in " ".join(s["redis"]["command"])
assert s["trailsight"]["build"]["dockerfile"] == "deploy/Containerfile"
PY
  check "cluster/compose.yaml: six nodes, three masters with a replica each, two workers of one group" \
    python3 - "$d/cluster/compose.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
nodes = [n for n in s if n.startswith("redis-")]
assert len(nodes) == 6, nodes
for n in nodes:
    assert s[n]["command"][:2] == ["redis-server", "/etc/redis/node.conf"], s[n]
    assert any(v.startswith("./redis-node.conf:") for v in s[n]["volumes"])
init = " ".join(s["cluster-init"]["command"])
assert "--cluster create" in init and "--cluster-replicas 1" in init
for n in nodes:
    assert n in init
workers = [w for w in s if w.startswith("worker-")]
assert len(workers) == 2
for w in workers:
    cmd = s[w]["command"]
    assert cmd[0] == "stream" and "--watch" in cmd
    assert cmd[cmd.index("--group") + 1] == "org"
    assert cmd[cmd.index("--store") + 1].startswith("redis-cluster://redis-1:6379")
    assert s[w]["depends_on"]["cluster-init"]["condition"] == "service_completed_successfully"
PY
else
  skip "python3-yaml is not installed (tools/install-deps.sh): compose.yaml not parsed"
fi

# cluster/local.sh: three masters and three replicas on loopback, and two
# backfill workers of one group over it give, together, the memory
# store's insights
cl=$tmp/cluster url="" base=0
for try in 1 2 3 4 5; do
  base=$((20000 + RANDOM % 9990))
  if url=$("$d/cluster/local.sh" start "$cl" "$base" 2> "$tmp/local.err"); then break; fi
  url=""
done
for f in "$cl"/node-*/redis.pid; do [ -f "$f" ] && redis_pids+=("$(cat "$f")"); done
check "local.sh starts the cluster: $(cat "$tmp/local.err")" test -n "$url"
if [ -n "$url" ]; then
  nodes=$(redis-cli -p "$base" cluster nodes)
  check "local.sh: three masters and three replicas" \
    test "$(grep -c master <<< "$nodes")/$(grep -c slave <<< "$nodes")" = 3/3
  "$TRAILSIGHT_GEN" --out "$tmp/g" --quiet --seed 12 --days 8 --apis 4 --rate 6 --accounts 2 \
    --regions 2 --anomalies 2 --kinds spike,error --anomaly-after 7
  "$TRAILSIGHT" backfill -q "$tmp/g/AWSLogs" > "$tmp/mem.ndjson"
  r1=0 r2=0
  "$TRAILSIGHT" backfill -q --group org --store "$url" "$tmp/g/AWSLogs" > "$tmp/w1.ndjson" &
  w1=$!
  "$TRAILSIGHT" backfill -q --group org --store "$url" "$tmp/g/AWSLogs" > "$tmp/w2.ndjson" &
  w2=$!
  wait "$w1" || r1=$?
  wait "$w2" || r2=$?
  check "local.sh: both workers exit 0 (got $r1, $r2)" test "$r1$r2" = 00
  check "local.sh: the memory store finds insights" test -s "$tmp/mem.ndjson"
  check "local.sh: the workers' insights together are the memory store's" \
    cmp <(LC_ALL=C sort "$tmp/mem.ndjson") <(LC_ALL=C sort "$tmp/w1.ndjson" "$tmp/w2.ndjson")
  "$d/cluster/local.sh" stop "$cl"
  check "local.sh stop: the nodes are gone" bash -c "! redis-cli -p $base ping >/dev/null 2>&1"
fi
check "Containerfile copies paths that exist" bash -c "
  cd '$TS_SOURCE_DIR' && awk '/^COPY [^-]/ {print \$2}' '$d/Containerfile' |
    while read p; do [ -e \"\$p\" ] || { echo \"missing \$p\" >&2; exit 1; }; done"
finish
