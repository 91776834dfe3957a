#!/usr/bin/env bash
# alertmanager.sh - the alertmanager: sink against a real Alertmanager
# (Debian's prometheus-alertmanager) on a private loopback port, with its
# own configuration and storage, checked through its API (GET
# /api/v2/alerts, which lists alerts that are not resolved):
#  - trailsight stream on a corpus cut inside an error-rate anomaly posts
#    the Start: one firing alert whose labels are the event's (alertname,
#    insight_type, account, region, event_source, event_name, error_code),
#    startsAt the Start's eventTime, annotations with the observed and
#    expected rates;
#  - with resolve_timeout 4 s and --alert-repost 1, the alert is still
#    firing 10 s later: the open alert is re-posted;
#  - a backfill of the whole corpus posts the End: the alert leaves the
#    list of alerts that are not resolved, and a run without re-posting
#    shows the timeout would have resolved it (so the check above means
#    something).
# Without Alertmanager installed the test reports SKIP (exit 77).
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
am=$(command -v prometheus-alertmanager || command -v alertmanager || true)
if [ -z "$am" ]; then
  echo "SKIP: prometheus-alertmanager is not installed (tools/install-deps.sh)"
  exit 77
fi
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
deliver="python3 $TS_SOURCE_DIR/tests/cli/deliver.py"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 9 --days 8 --apis 4 --rate 10 --regions 1 \
  --anomalies 1 --kinds error --anomaly-after 7 --quiet
start=$(jq -r '.anomalies[0].start' "$tmp/c/labels.json")
# the files delivered up to 10 minutes into the anomaly, in delivery order
cut=$(python3 - "$tmp/c" "$start" <<'EOF'
import os, sys, datetime
src, start = sys.argv[1], sys.argv[2]
t = datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(minutes=10)
limit = t.strftime("%Y%m%dT%H%MZ")
n = 0
for root, dirs, names in os.walk(os.path.join(src, "AWSLogs")):
    for f in names:
        if f.endswith(".json.gz") and f.split("_")[3] <= limit:
            n += 1
print(n)
EOF
)
mkdir -p "$tmp/part"
$deliver "$tmp/c" "$tmp/part" 0 "$cut" > /dev/null

# am_start NAME RESOLVE_TIMEOUT: an Alertmanager on a free loopback port,
# its config and storage under $tmp/NAME; sets am_url
am_pids=()
am_stop() { local p; for p in "${am_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap 'am_stop; cleanup' EXIT
am_start() {
  local dir=$tmp/$1 port try i pid
  mkdir -p "$dir"
  printf 'global:\n  resolve_timeout: %s\nroute:\n  receiver: none\nreceivers:\n  - name: none\n' \
    "$2" > "$dir/am.yml"
  for try in $(seq 1 10); do
    port=$((20000 + RANDOM % 20000))
    "$am" --config.file="$dir/am.yml" --storage.path="$dir/data" \
      --web.listen-address="127.0.0.1:$port" --cluster.listen-address= > "$dir/log" 2>&1 &
    pid=$!
    for i in $(seq 1 100); do
      if curl -sf "http://127.0.0.1:$port/api/v2/status" > /dev/null; then
        am_pids+=("$pid")
        am_url=http://127.0.0.1:$port
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "could not start Alertmanager (see $dir/log)" >&2
  return 1
}

# alerts URL: the alerts that are not resolved, as NDJSON
alerts() { curl -sf "$1/api/v2/alerts" | jq -c '.[]'; }

# wait_alerts URL N: until N alerts are listed (60 s at most)
wait_alerts() {
  local i
  for i in $(seq 1 600); do
    [ "$(alerts "$1" | wc -l)" -eq "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 alerts at $1: $(alerts "$1")" >&2
  return 1
}

am_start a 4s
# 1. the Start, from a stream that stays up and re-posts every second
mkdir -p "$tmp/w"
"$TRAILSIGHT" stream -q --watch "$tmp/w" --idle-timeout 1 --spool-dir "$tmp/spool" \
  --out - --out "alertmanager:$am_url" --alert-repost 1 > "$tmp/s.ndjson" 2> "$tmp/s.err" &
pid=$!
# in delivery order, each file renamed into place, as a sync tool does: a
# whole tree copied at once reaches the watcher in any order, and records of
# files read late would be late
$deliver "$tmp/part" "$tmp/w" > /dev/null
check "the Start is a firing alert" wait_alerts "$am_url" 1
alerts "$am_url" > "$tmp/a1.json"
check "the stream wrote one Start" test "$(jq -r .insightDetails.state "$tmp/s.ndjson")" = Start
ev=$(head -1 "$tmp/s.ndjson")
want_labels=$(jq -cS '{alertname: "CloudTrailInsight", insight_type: .insightDetails.insightType,
  account: .recipientAccountId, region: .awsRegion, event_source: .insightDetails.eventSource,
  event_name: .insightDetails.eventName, error_code: .insightDetails.errorCode}' <<< "$ev")
got_labels=$(jq -cS .labels "$tmp/a1.json")
check "labels are the event's ($got_labels)" test "$got_labels" = "$want_labels"
check "the labels name the generated anomaly" \
  test "$(jq -r .labels.error_code "$tmp/a1.json")" = "$(jq -r '.anomalies[0].errorCode' "$tmp/c/labels.json")"
check "startsAt is the Start's eventTime" \
  test "$(jq -r .startsAt "$tmp/a1.json" | cut -c1-19)" = "$(jq -r .eventTime <<< "$ev" | cut -c1-19)"
check "the alert is active" test "$(jq -r .status.state "$tmp/a1.json")" = active
check "annotations: observed rate is the insight average" \
  test "$(jq -r '.annotations.observed_rate | tonumber' "$tmp/a1.json")" = \
       "$(jq -r '.insightDetails.insightContext.statistics.insight.average' <<< "$ev")"
check "annotations: expected and baseline rates are numbers" \
  jq -e '(.annotations.expected_rate | tonumber) >= 0 and (.annotations.baseline_rate | tonumber) >= 0' "$tmp/a1.json" > /dev/null
check "annotations: the sharedEventID" \
  test "$(jq -r .annotations.shared_event_id "$tmp/a1.json")" = "$(jq -r .sharedEventID <<< "$ev")"
sleep 10 # two and a half resolve_timeouts
check "re-posted: still firing after 10 s with resolve_timeout 4 s" \
  test "$(alerts "$am_url" | wc -l)" -eq 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "stream: exit 0 (got $rc)" test "$rc" = 0

# 2. the End, from a backfill of the whole corpus
"$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" --out - --out "alertmanager:$am_url" \
  "$tmp/c/AWSLogs" > "$tmp/b.ndjson"
check "backfill wrote a Start and an End" \
  test "$(jq -r .insightDetails.state "$tmp/b.ndjson" | tr '\n' ' ')" = "Start End "
check "the End resolves the alert" wait_alerts "$am_url" 0

# 3. without re-posting, Alertmanager's timeout resolves a Start
am_start b 2s
"$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" --out "alertmanager:$am_url" \
  "$tmp/part/AWSLogs"
check "a Start without an End is firing" wait_alerts "$am_url" 1
check "with no re-post it is resolved after resolve_timeout" wait_alerts "$am_url" 0
finish
