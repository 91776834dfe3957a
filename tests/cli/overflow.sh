#!/usr/bin/env bash
# overflow.sh - the cardinality caps: a flood of invented eventNames in the
# partition of a real spike is counted as overflow (summary, --stats,
# metrics), and the insights of the series already there are byte for byte
# those of the same logs without the flood.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --quiet --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 2 --kinds spike,error --anomaly-after 7
acct=$(jq -r '.anomalies[0].account' "$tmp/c/labels.json")
region=$(jq -r '.anomalies[0].region' "$tmp/c/labels.json")
day=$(jq -r '.anomalies[0].start[0:10]' "$tmp/c/labels.json")
hm=$(jq -r '.anomalies[0].start[11:16]' "$tmp/c/labels.json")
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/plain.ndjson"
check "the spike is found without the flood" \
  grep -q "\"state\":\"Start\".*$(jq -r '.anomalies[0].eventName' "$tmp/c/labels.json")" "$tmp/plain.ndjson"

# 20000 invented names, one record each, in one NDJSON file among the real
# files of the spike's day (walked in name order), an hour before the spike
n=20000
h=$((10#${hm%%:*} - 1)); [ "$h" -ge 0 ] || h=0
dir="$tmp/c/AWSLogs/$acct/CloudTrail/$region/${day:0:4}/${day:5:2}/${day:8:2}"
stamp=$(printf '%s%s%sT%02d00Z' "${day:0:4}" "${day:5:2}" "${day:8:2}" "$h")
awk -v n=$n -v acct="$acct" -v region="$region" -v day="$day" -v h="$h" 'BEGIN {
  for (i = 0; i < n; i++)
    printf "{\"eventVersion\":\"1.09\",\"eventTime\":\"%sT%02d:%02d:%02dZ\",\"eventSource\":\"flood%d.amazonaws.com\",\"eventName\":\"Invented%d\",\"awsRegion\":\"%s\",\"recipientAccountId\":\"%s\",\"eventCategory\":\"Management\",\"managementEvent\":true,\"readOnly\":false,\"eventType\":\"AwsApiCall\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::%s:user/f%d\"},\"userAgent\":\"flood/%d\"}\n",
      day, h, int(i * 60 / n), i % 60, i % 3, i, region, acct, acct, i, i
}' > "$dir/${acct}_CloudTrail_${region}_${stamp}_flood.json"

"$TRAILSIGHT" backfill --stats "$tmp/stats.json" --max-series-per-partition 100 \
  "$tmp/c/AWSLogs" > "$tmp/flood.ndjson" 2> "$tmp/flood.err"
check "insights with the flood equal those without it" cmp "$tmp/plain.ndjson" "$tmp/flood.ndjson"
check "--stats counts the flood as overflow" \
  test "$(jq '.overflow.series_records' "$tmp/stats.json")" -gt $((n - 100))
check "--stats names the flood's partition and sources" \
  test "$(jq -r --arg a "$acct" --arg r "$region" \
    '[.overflow.top[] | select(.account == $a and .region == $r and (.eventSource | startswith("flood")))] | length' \
    "$tmp/stats.json")" -eq 3
check "the overflow of the top sources adds up" \
  test "$(jq '[.overflow.top[].series_records] | add' "$tmp/stats.json")" -eq \
    "$(jq '.overflow.series_records' "$tmp/stats.json")"
check "the series stop at the cap" \
  test "$(jq '.apis' "$tmp/stats.json")" -le $((100 + 12))
check "the summary reports the overflow" grep -q "overflow: .* records of new series past the series caps" "$tmp/flood.err"

# the total cap: every API past the first 5 is overflow
"$TRAILSIGHT" backfill -q --stats "$tmp/total.json" --max-series 5 "$tmp/c/AWSLogs" > /dev/null
check "--max-series caps the series in all" test "$(jq '.apis' "$tmp/total.json")" -eq 5
check "--max-series counts the rest as overflow" \
  test "$(jq '.overflow.series_records' "$tmp/total.json")" -gt $n

# errorCodes per series: with one code allowed, the error burst's code may
# be the second one of its API; either way no error metric beyond the cap
"$TRAILSIGHT" backfill -q --stats "$tmp/codes.json" --max-error-codes 1 "$tmp/c/AWSLogs" > /dev/null
check "--max-error-codes leaves at most one code per series" \
  test "$(jq '.series - 2 * .apis' "$tmp/codes.json")" -le "$(jq '.apis' "$tmp/codes.json")"

# attribution values per series and hour: the flood's one admitted series
# per name has one ARN; a cap of 1 drops every second value of an hour
"$TRAILSIGHT" backfill -q --stats "$tmp/attrs.json" --max-attr-values 1 "$tmp/c/AWSLogs" > /dev/null
check "--max-attr-values drops values past the cap" \
  test "$(jq '.attribution_values_dropped' "$tmp/attrs.json")" -gt 0

for bad in "--max-series 0" "--max-series-per-partition x" "--max-error-codes -1" "--max-attr-values 1e9"; do
  set +e
  "$TRAILSIGHT" backfill $bad "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/bad.err"
  rc=$?
  set -e
  check "$bad is refused with exit 1" test "$rc" -eq 1
done
finish
