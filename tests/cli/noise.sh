#!/usr/bin/env bash
# noise.sh - `trailsight noise`: the rule it prints for an insight, added
# with --rules to a backfill of the same files, keeps exactly that series'
# insights from the sinks (they go to --marked-out, with the rule named)
# and changes nothing else; an eventID works as well as a sharedEventID;
# an ID not found, or no --events, exits 1 naming the problem; a line that
# is not an insight event is passed over with its file and line.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 9 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 3 --kinds spike,error --anomaly-after 7 --quiet
logs=$tmp/c/AWSLogs
"$TRAILSIGHT" backfill -q "$logs" > "$tmp/ref"
n=$(jq -s 'map(.sharedEventID) | unique | length' "$tmp/ref")
check "the backfill made at least two insights ($n)" test "$n" -ge 2

# the first insight, by its sharedEventID
id=$(jq -r -s '.[0].sharedEventID' "$tmp/ref")
cond='(.recipientAccountId == $e.recipientAccountId and .awsRegion == $e.awsRegion
  and .insightDetails.eventSource == $e.insightDetails.eventSource
  and .insightDetails.eventName == $e.insightDetails.eventName
  and ($e.insightDetails.insightType == "ApiCallRateInsight"
       or .insightDetails.errorCode == $e.insightDetails.errorCode))'
first=$(jq -c -s '.[0]' "$tmp/ref")
rc=0
"$TRAILSIGHT" noise --events "$tmp/ref" "$id" > "$tmp/r1.rules" 2> "$tmp/n1.err" || rc=$?
check "noise: exit 0 (got $rc)" test "$rc" = 0
check "noise: a mark rule" grep -q '^action = mark$' "$tmp/r1.rules"
"$TRAILSIGHT" backfill -q --rules "$tmp/r1.rules" --marked-out "$tmp/m1" "$logs" > "$tmp/o1"
check "with the rule: the series' insights kept from stdout, the rest unchanged" \
  cmp <(jq -c . "$tmp/o1") <(jq -c --argjson e "$first" "select($cond | not)" "$tmp/ref")
check "with the rule: those insights in --marked-out, the rule named" \
  test "$(jq -r '.insightDetails.trailsightContext.suppressedBy' "$tmp/m1" | sort -u)" = \
  "noise-${id:0:8}"
check "with the rule: --marked-out has exactly the series' insights" \
  cmp <(jq -c 'del(.insightDetails.trailsightContext.suppressedBy)' "$tmp/m1" | LC_ALL=C sort) \
      <(jq -c --argjson e "$first" "select($cond)" "$tmp/ref" | LC_ALL=C sort)

# the last insight's End, by its eventID, from a file with a bad line
last_eid=$(jq -r -s 'map(select(.insightDetails.state == "End")) | .[-1].eventID' "$tmp/ref")
last_sid=$(jq -r -s 'map(select(.insightDetails.state == "End")) | .[-1].sharedEventID' "$tmp/ref")
{ echo '{"not": "an insight"}'; cat "$tmp/ref"; } > "$tmp/ref2"
rc=0
"$TRAILSIGHT" noise --events "$tmp/ref2" "$last_eid" "$last_sid" > "$tmp/r2.rules" 2> "$tmp/n2.err" || rc=$?
check "noise by eventID: exit 0 (got $rc)" test "$rc" = 0
check "noise: two IDs of one insight give one rule" \
  test "$(grep -c '^rule = ' "$tmp/r2.rules")" = 1
check "noise: the rule is named after the sharedEventID" \
  grep -q "^rule = noise-${last_sid:0:8}\$" "$tmp/r2.rules"
check "noise: the bad line is named by file and line" \
  grep -q "noise: $tmp/ref2:1: not an insight event" "$tmp/n2.err"

rc=0
"$TRAILSIGHT" noise --events "$tmp/ref" "$id" no-such-id > "$tmp/r3.rules" 2> "$tmp/n3.err" || rc=$?
check "an unknown ID: exit 1 (got $rc)" test "$rc" = 1
check "an unknown ID: named" grep -q "no insight with eventID or sharedEventID 'no-such-id'" "$tmp/n3.err"
check "an unknown ID: the found one's rule still printed" grep -q '^action = mark$' "$tmp/r3.rules"
rc=0
"$TRAILSIGHT" noise "$id" > /dev/null 2> "$tmp/n4.err" || rc=$?
check "no --events: exit 1 (got $rc)" test "$rc" = 1
check "no --events: said" grep -q "give the events of a run with --events FILE" "$tmp/n4.err"
rc=0
"$TRAILSIGHT" noise --events "$tmp/missing" "$id" > /dev/null 2> "$tmp/n5.err" || rc=$?
check "a missing events file: exit 1, named (got $rc)" \
  test "$rc" = 1 -a -n "$(grep "cannot open '$tmp/missing'" "$tmp/n5.err")"
finish
