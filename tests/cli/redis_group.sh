#!/usr/bin/env bash
# redis_group.sh - two workers of one group (--group) sharing a real Redis
# Cluster of 3 masters with a replica each, over an organization (20
# accounts x 3 Regions, 9 days, so every series is judged):
#  - run together, each finishes some of the partitions (not all in one),
#    the union of their insights equals a single-process memory-store
#    backfill's, line for line after sorting, and is not empty; every
#    count in the cluster equals tools/recount.py's recount;
#  - one worker killed -9 midway: the partitions it held are claimed again
#    (their fencing counter moves on) by the other once the lease (1 s)
#    lapses, and resumed from the killed worker's checkpoints; the
#    insights again equal the single-process run's, none twice, and the
#    counts equal the recount;
#  - while both workers write (each holding a checkpointed partition):
#    redis-cli --cluster reshard moves 1,200 slots between masters;
#    CLUSTER FAILOVER makes a replica the master; that master is killed
#    -9 and its replica takes over (leases of 1 s, which lapse meanwhile):
#    after each, the same insights, none twice, and counts equal to the
#    recount;
#  - --group with the memory store, or with --stdin, exits 1 with a reason.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (tools/install-deps.sh)" >&2; exit 1; }
recount="$TS_SOURCE_DIR/tools/recount.py"
canon() { no_decision "$@" | LC_ALL=C sort; }

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 7 --days 9 --apis 3 --rate 6 --regions 3 --accounts 20 \
  --anomalies 8 --kinds spike,error --anomaly-after 7 --file-minutes 360 --no-digests \
  --quiet 2>/dev/null
logs=$tmp/c/AWSLogs
python3 "$recount" "$logs" | LC_ALL=C sort > "$tmp/expected" &
recount_pid=$!
# --future-minutes 0: recount.py has no clock skew guard
"$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 "$logs" > "$tmp/mem.ndjson"
canon "$tmp/mem.ndjson" > "$tmp/ref"
check "single-process insights written" test -s "$tmp/ref"

# usage errors
set +e
"$TRAILSIGHT" backfill -q --group g "$logs" > /dev/null 2> "$tmp/mem.err"
st=$?
"$TRAILSIGHT" stream -q --group g --stdin --store redis://127.0.0.1:1 < /dev/null \
  > /dev/null 2> "$tmp/stdin.err"
st2=$?
set -e
check "--group with the memory store: exit 1 ($st)" test "$st" = 1
check "  ... saying the store has no leases" grep -q "memory store has no leases" "$tmp/mem.err"
check "--group with --stdin: exit 1 ($st2)" test "$st2" = 1

# three masters, each with a replica (for the failover in 4)
redis_cluster_start "$tmp/cl" 3 1
ports=($(redis_cluster_masters))
wait "$recount_pid"
check "counts recomputed" test -s "$tmp/expected"
url="redis-cluster://127.0.0.1:${ports[0]}"
flushall() { local p; for p in "${ports[@]}"; do redis-cli -p "$p" flushall > /dev/null; done; }
worker() { # worker NAME [options] &: a backfill of group g into the cluster (exec: $! is its pid)
  local name=$1
  shift
  exec "$TRAILSIGHT" backfill -q --threads 1 --future-minutes 0 --group g --store "$url" \
    --stats "$tmp/$name.json" \
    "$@" "$logs" > "$tmp/$name.ndjson" 2> "$tmp/$name.err"
}

# 1. two workers together
worker w1 & p1=$!
worker w2 & p2=$!
st1=0; st2=0
wait "$p1" || st1=$?
wait "$p2" || st2=$?
check "worker 1 exits 0 ($st1)" test "$st1" = 0
check "worker 2 exits 0 ($st2)" test "$st2" = 0
n1=$(jq .group.finished_here "$tmp/w1.json")
n2=$(jq .group.finished_here "$tmp/w2.json")
np=$(jq .group.partitions "$tmp/w1.json")
check "each worker finished some partitions ($n1 and $n2 of $np)" \
  test "$n1" -gt 0 -a "$n2" -gt 0 -a "$n1" -lt "$np" -a "$n2" -lt "$np"
check "60 partitions seen" test "$np" = 60
check "no lease lost" test "$(jq '.group.lost + .group.fenced' "$tmp/w1.json" "$tmp/w2.json" |
  paste -sd+ | bc)" = 0
cat "$tmp/w1.ndjson" "$tmp/w2.ndjson" | canon > "$tmp/u1"
check "two workers: no insight twice" test -z "$(uniq -d "$tmp/u1")"
check "two workers: the union equals the single-process insights" cmp "$tmp/u1" "$tmp/ref"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump1"
check "two workers: counts equal the recount" cmp "$tmp/dump1" "$tmp/expected"

# 2. one worker killed -9 midway, leases of 1 s
flushall
leases_of() { # leases_of PID: "PORT KEY" of each lease a process holds
  # on a partition it has checkpointed (a saved state)
  redis_leases_checkpointed "$1" "${ports[@]}"
}
# checkpoints as it goes (--order time, small --checkpoint-cells), so the
# partitions the killed worker held are resumed from its saved states
worker k1 --lease-ms 1000 --order time --checkpoint-cells 500 & pk1=$!
worker k2 --lease-ms 1000 --order time --checkpoint-cells 500 & pk2=$!
held=""
for i in $(seq 1 200); do
  held=$(leases_of "$pk1")
  [ -n "$held" ] && break
  sleep 0.05
done
kill -9 "$pk1"
wait "$pk1" 2>/dev/null || true
st=0
wait "$pk2" || st=$?
check "the surviving worker exits 0 ($st)" test "$st" = 0
check "the killed worker held checkpointed partitions when killed" test -n "$held"
moved=1
while read -r p k; do
  [ -n "$k" ] || continue
  f=${k%:lease}:fence
  [ "$(redis-cli -p "$p" get "$f")" -ge 2 ] || { echo "not taken over: $k" >&2; moved=0; }
done <<< "$held"
check "every partition it held was claimed again" test "$moved" = 1
check "the survivor resumed partitions from the killed worker's checkpoints" \
  test "$(jq .partitions_restored "$tmp/k2.json")" -gt 0
cat "$tmp/k1.ndjson" "$tmp/k2.ndjson" | canon > "$tmp/u2"
check "kill -9: no insight twice" test -z "$(uniq -d "$tmp/u2")"
check "kill -9: the union equals the single-process insights" cmp "$tmp/u2" "$tmp/ref"
redis_cluster_dump_counts "${ports[@]}" > "$tmp/dump2"
check "kill -9: counts equal the recount" cmp "$tmp/dump2" "$tmp/expected"

# both_writing PID1 PID2: wait (at most 10 s) until each worker holds a
# lease on a partition it has checkpointed
both_writing() {
  local i
  for i in $(seq 1 200); do
    [ -n "$(leases_of "$1")" ] && [ -n "$(leases_of "$2")" ] && return 0
    kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# group_run NAME [options]: two workers NAME1 and NAME2 (checkpoints as
# they go), in the background: $pa and $pb
group_run() {
  local name=$1
  shift
  worker "${name}1" --order time --checkpoint-cells 500 "$@" & pa=$!
  worker "${name}2" --order time --checkpoint-cells 500 "$@" & pb=$!
}
# group_check NAME WHAT: both workers exit 0, their insights together are
# the single-process run's, the counts on the masters are the recount
group_check() {
  local sa=0 sb=0
  wait "$pa" || sa=$?
  wait "$pb" || sb=$?
  check "$2: both workers exit 0 ($sa, $sb)" test "$sa$sb" = 00
  cat "$tmp/${1}1.ndjson" "$tmp/${1}2.ndjson" | canon > "$tmp/$1.u"
  check "$2: no insight twice" test -z "$(uniq -d "$tmp/$1.u")"
  check "$2: the union equals the single-process insights" cmp "$tmp/$1.u" "$tmp/ref"
  redis_cluster_dump_counts "${ports[@]}" > "$tmp/$1.dump"
  check "$2: counts equal the recount" cmp "$tmp/$1.dump" "$tmp/expected"
}

# 3. slots moved while both workers write: the first 1,200 slots of one
# master (a few partitions' among them) go to another
# (redis-cli --cluster reshard takes the source's lowest slots)
flushall
from=${ports[0]} to=${ports[1]}
fid=$(redis-cli -p "$from" cluster myid)
tid=$(redis-cli -p "$to" cluster myid)
first=$(redis-cli -p "$from" cluster nodes | awk '/myself/ { split($9, r, "-"); print r[1] }')
nslots=1200
group_run rs
both=0
both_writing "$pa" "$pb" && both=1
t0=$(date +%s.%N)
redis-cli --cluster reshard "127.0.0.1:$from" --cluster-from "$fid" --cluster-to "$tid" \
  --cluster-slots "$nslots" --cluster-yes > "$tmp/reshard.log" 2>&1 && rrc=0 || rrc=$?
alive=0
kill -0 "$pa" 2>/dev/null && kill -0 "$pb" 2>/dev/null && alive=1
echo "reshard: $(echo "$(date +%s.%N) - $t0" | bc) s, both workers still running when it ended: $alive"
check "reshard: it began while both workers were writing" test "$both" = 1
check "reshard: redis-cli --cluster reshard moved $nslots slots (exit $rrc)" test "$rrc" = 0
group_check rs "reshard during a group run"
moved_keys=$(for s in $(seq "$first" $((first + nslots - 1))); do
  echo "cluster countkeysinslot $s"; done | redis-cli -p "$to" | paste -sd+ | bc)
check "reshard: the slots moved hold partitions' keys ($moved_keys on the new master)" \
  test "$moved_keys" -gt 0

# 4. a master failed over to its replica (CLUSTER FAILOVER on the replica)
# while both workers write
flushall
victim=$to # the master that took the 1,200 slots
vid=$(redis-cli -p "$victim" cluster myid)
replica=$(redis-cli -p "$victim" cluster nodes | awk -v id="$vid" '$4 == id {
  sub(/@.*/, "", $2); sub(/.*:/, "", $2); print $2; exit }')
group_run fo
both=0
both_writing "$pa" "$pb" && both=1
redis-cli -p "$replica" cluster failover > /dev/null
for i in $(seq 1 200); do
  redis-cli -p "$replica" info replication | grep -q '^role:master' &&
    redis-cli -p "$victim" info replication | grep -q '^role:slave' && break
  sleep 0.05
done
alive=0
kill -0 "$pa" 2>/dev/null && kill -0 "$pb" 2>/dev/null && alive=1
check "failover: it began while both workers were writing" test "$both" = 1
check "failover: the replica $replica is a master now" \
  bash -c "redis-cli -p $replica info replication | grep -q '^role:master'"
echo "failover: both workers still running when it ended: $alive"
ports=($(redis_cluster_masters))
group_check fo "failover during a group run"

# 5. that master killed -9 while both workers write, leases of 1 s: its
# replica takes over once the others find it silent (2 s), by which time
# the workers' leases on its partitions have lapsed: each finds them lost
# at renewal (or its checkpoint refused) and the partitions are claimed
# again and resumed from their checkpoints
flushall
dead=$replica
dead_id=$(redis-cli -p "$dead" cluster myid)
dpid=$(redis-cli -p "$dead" info server | awk -F: '$1 == "process_id" {print $2+0}')
heirs=$(redis-cli -p "$dead" cluster nodes | awk -v id="$dead_id" '$4 == id {
  sub(/@.*/, "", $2); sub(/.*:/, "", $2); print $2 }')
group_run kf --lease-ms 1000
both=0
both_writing "$pa" "$pb" && both=1
t0=$(date +%s.%N)
kill -9 "$dpid"
heir=""
for i in $(seq 1 300); do
  for p in $heirs; do
    redis-cli -p "$p" info replication 2>/dev/null | grep -q '^role:master' && heir=$p
  done
  [ -n "$heir" ] && break
  sleep 0.05
done
echo "master killed: replica $heir a master after $(echo "$(date +%s.%N) - $t0" | bc) s"
check "master killed: it was while both workers were writing" test "$both" = 1
check "master killed: a replica took over" test -n "$heir"
ports=($(redis_cluster_masters))
group_check kf "master killed during a group run"
echo "master killed: workers done after $(echo "$(date +%s.%N) - $t0" | bc) s"
check "master killed: leases on its partitions were lost meanwhile" \
  test "$(jq '.group.lost + .group.fenced' "$tmp/kf1.json" "$tmp/kf2.json" | paste -sd+ | bc)" -gt 0
finish
