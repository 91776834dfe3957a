#!/usr/bin/env bash
# alert_formats.sh - the pagerduty:, slack: and eventbridge: sinks, posted
# to a local receiver (receiver.py) and checked against their documented
# shapes by alert_formats.py: PagerDuty Events v2 (routing_key,
# event_action, dedup_key, a trigger's payload with summary, source,
# severity and an ISO 8601 timestamp; a resolve with those three keys only;
# each resolve after the trigger of its dedup_key, the sharedEventID), the
# Slack {"text": one line} and the EventBridge envelope of an Insight (its
# keys in AWS's order, the record under "detail" without trailsightContext).
# Also: the routing key from $TRAILSIGHT_PAGERDUTY_KEY, and a clear usage
# error (exit 1) when there is none or a URL is not http(s).
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 9 --days 8 --apis 4 --rate 10 --regions 1 \
  --anomalies 2 --kinds spike,error --anomaly-after 7 --quiet

python3 "$TS_SOURCE_DIR/tests/cli/receiver.py" "$tmp/port" "$tmp/got.ndjson" &
rpid=$!
trap 'kill $rpid 2>/dev/null || true; cleanup' EXIT
for i in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$tmp/port")

key=R0UT1NGKEY0123456789abcdef012345
"$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" --out - \
  --out "pagerduty:$key@$url/pd" --out "slack:$url/slack" --out "eventbridge:$url/eb" \
  "$tmp/c/AWSLogs" > "$tmp/ev.ndjson"
check "the run made Starts and Ends" \
  test "$(jq -r .insightDetails.state "$tmp/ev.ndjson" | sort -u | tr '\n' ' ')" = "End Start "
check "payloads have the documented shapes" \
  python3 "$TS_SOURCE_DIR/tests/cli/alert_formats.py" "$tmp/ev.ndjson" "$tmp/got.ndjson" "$key"

# the routing key from the environment
: > "$tmp/got.ndjson"
TRAILSIGHT_PAGERDUTY_KEY=envkey42 "$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" \
  --out "pagerduty:$url/pd" "$tmp/c/AWSLogs"
check "pagerduty:URL takes the key from TRAILSIGHT_PAGERDUTY_KEY" \
  test "$(jq -r .body.routing_key "$tmp/got.ndjson" | sort -u)" = envkey42
check "as many posts as events" test "$(wc -l < "$tmp/got.ndjson")" = "$(wc -l < "$tmp/ev.ndjson")"

# usage errors name the sink and never echo the key
rc=0
env -u TRAILSIGHT_PAGERDUTY_KEY "$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" \
  --out "pagerduty:$url/pd" "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/e1" || rc=$?
check "pagerduty with no key: exit 1 (got $rc)" test "$rc" = 1
check "pagerduty with no key: says so" grep -q "no routing key" "$tmp/e1"
rc=0
"$TRAILSIGHT" backfill -q --spool-dir "$tmp/spool" --out "pagerduty:secret@ftp://x" \
  "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/e2" || rc=$?
check "pagerduty with a bad URL: exit 1 (got $rc)" test "$rc" = 1
check "the error does not show the key" bash -c "! grep -q secret '$tmp/e2'"
rc=0
"$TRAILSIGHT" backfill -q --out "slack:nohttp" "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/e3" || rc=$?
check "slack with a bad URL: exit 1 (got $rc)" test "$rc" = 1
finish
