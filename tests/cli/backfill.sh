#!/usr/bin/env bash
# backfill.sh - the CLI end to end on a generated corpus: insights check out
# against the raw records, output is deterministic, stdin NDJSON gives the
# same insights as the S3 folder, and usage errors exit 1.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 11 --days 9 --apis 15 --rate 30 --anomalies 3 \
  --kinds spike,drop,error --anomaly-after 8 --quiet
"$TRAILSIGHT" backfill --stats "$tmp/stats.json" "$tmp/c/AWSLogs" > "$tmp/out1" 2> "$tmp/err1"
check "backfill exits 0" true

# every event has the CloudTrail format, every pair checks out against the records
rc=0
python3 "$TS_SOURCE_DIR/tools/check_insights.py" --labels "$tmp/c/labels.json" \
  "$tmp/out1" "$tmp/c/AWSLogs" > "$tmp/check.txt" || rc=$?
check "insights check out against the records" test "$rc" = 0
[ "$rc" = 0 ] || cat "$tmp/check.txt" >&2
found=$(sed -n 's/^labels: \([0-9]*\) of \([0-9]*\).*/\1/p' "$tmp/check.txt")
total=$(sed -n 's/^labels: \([0-9]*\) of \([0-9]*\).*/\2/p' "$tmp/check.txt")
check "every injected anomaly is found ($found of $total)" test "$found" = "$total"
check "some insights were written" test -s "$tmp/out1"

# the stats file agrees with the labels' record count
records=$(jq .records "$tmp/c/labels.json")
check "stats: every generated record counted" \
  test "$(jq .records_counted "$tmp/stats.json")" = "$records"
check "stats: nothing skipped" test "$(jq .skipped "$tmp/stats.json")" = 0
check "stats: digest files passed over" test "$(jq .files_ignored "$tmp/stats.json")" -gt 0
check "summary line on stderr" grep -q "records counted" "$tmp/err1"

# a re-run gives byte-identical output (event IDs are derived from content)
"$TRAILSIGHT" backfill -q "$tmp/c/AWSLogs" > "$tmp/out2"
check "re-run is byte-identical" cmp -s "$tmp/out1" "$tmp/out2"

# the thread count changes nothing in the output
"$TRAILSIGHT" backfill -q --threads 1 "$tmp/c/AWSLogs" > "$tmp/out_t1"
"$TRAILSIGHT" backfill -q --threads 3 "$tmp/c/AWSLogs" > "$tmp/out_t3"
check "--threads 1 gives the same output" cmp -s "$tmp/out1" "$tmp/out_t1"
check "--threads 3 gives the same output" cmp -s "$tmp/out1" "$tmp/out_t3"
# whole-file decoding (libdeflate) and streaming zlib give the same insights
"$TRAILSIGHT" backfill -q --threads 2 --inflate zlib "$tmp/c/AWSLogs" > "$tmp/out_z2"
"$TRAILSIGHT" backfill -q --threads 4 --inflate fast "$tmp/c/AWSLogs" > "$tmp/out_f4"
check "--inflate zlib gives the same output" cmp -s "$tmp/out1" "$tmp/out_z2"
check "--threads 4 --inflate fast gives the same output" cmp -s "$tmp/out1" "$tmp/out_f4"
# progress is for terminals only: none when stderr is a file
check "no progress text off a terminal" bash -c "! grep -q ' files, .* MB/s' '$tmp/err1'"

# the same records as NDJSON on stdin give the same insights
find "$tmp/c/AWSLogs" -path '*CloudTrail/*' -name '*.json.gz' | sort | xargs zcat \
  | jq -c '.Records[]' > "$tmp/all.ndjson"
"$TRAILSIGHT" backfill -q - < "$tmp/all.ndjson" > "$tmp/out3"
check "stdin NDJSON gives the same insights" cmp -s "$tmp/out1" "$tmp/out3"

# one input is read on two threads (batches of records) when --threads > 1:
# the same insights, counts, skips and messages as on one thread, also with
# damaged lines, gzipped, and on stdin
awk 'NR == 5000 {print "garbage{" $0; next} NR == 9000 {sub(/eventTime/, "evntTime")} {print}' \
  "$tmp/all.ndjson" > "$tmp/one.ndjson"
gzip -c "$tmp/one.ndjson" > "$tmp/one.ndjson.gz"
single() { # NAME ARGS...: run, keep stdout, stats without timings, skip messages
  local name=$1; shift
  "$TRAILSIGHT" backfill --stats "$tmp/$name.json" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
  jq -c 'del(.elapsed_seconds, .records_per_second, .peak_rss_kb)' "$tmp/$name.json" > "$tmp/$name.st"
  grep -v 'records counted in' "$tmp/$name.err" > "$tmp/$name.msg" || true
}
single p1 --threads 1 "$tmp/one.ndjson"
single z1 --threads 1 "$tmp/one.ndjson.gz"
check "one input: gzip or not, the same insights" cmp -s "$tmp/p1.out" "$tmp/z1.out"
for v in "p1 p2 --threads 2 $tmp/one.ndjson" "p1 p4 --threads 4 $tmp/one.ndjson" \
         "z1 z2 --threads 2 $tmp/one.ndjson.gz" "z1 zl --threads 2 --inflate zlib $tmp/one.ndjson.gz"; do
  set -- $v
  ref=$1; shift
  single "$@"
  what="one input, ${*:2:$#-2} (${*: -1})"
  check "$what: the same insights" cmp -s "$tmp/$ref.out" "$tmp/$1.out"
  check "$what: the same stats" cmp -s "$tmp/$ref.st" "$tmp/$1.st"
  check "$what: the same skip messages" cmp -s "$tmp/$ref.msg" "$tmp/$1.msg"
done
"$TRAILSIGHT" backfill -q --threads 2 - < "$tmp/one.ndjson" > "$tmp/ps.out"
check "one input, stdin on two threads: the same insights" cmp -s "$tmp/p1.out" "$tmp/ps.out"
check "one input: the damaged lines are skipped, the rest counted" \
  test "$(jq .skipped "$tmp/p1.json")" = 2 -a "$(jq .records_counted "$tmp/p1.json")" = "$((records - 2))"

# --no-trailsight-context leaves that key out and nothing else changes
"$TRAILSIGHT" backfill -q --no-trailsight-context "$tmp/c/AWSLogs" > "$tmp/out4"
check "no trailsightContext on request" bash -c "! grep -q trailsightContext '$tmp/out4'"
check "same events without the extra key" \
  cmp -s <(jq -c 'del(.insightDetails.trailsightContext)' "$tmp/out1") <(jq -c . "$tmp/out4")

# usage
check "--help exits 0" bash -c "'$TRAILSIGHT' backfill --help > /dev/null"
check "help names the options" bash -c "'$TRAILSIGHT' --help | grep -q -- '--store'"
set +e
"$TRAILSIGHT" backfill --bogus "$tmp/c" >/dev/null 2>&1; rc1=$?
"$TRAILSIGHT" nonsense >/dev/null 2>&1; rc2=$?
"$TRAILSIGHT" backfill >/dev/null 2>&1; rc3=$?
"$TRAILSIGHT" backfill --model no-such-profile "$tmp/c" >/dev/null 2>"$tmp/err5"; rc4=$?
"$TRAILSIGHT" backfill --store bogus://x "$tmp/c" >/dev/null 2>&1; rc5=$?
"$TRAILSIGHT" backfill --lateness 113 "$tmp/c" >/dev/null 2>"$tmp/err6"; rc6=$?
set -e
check "unknown option exits 1" test "$rc1" = 1
check "unknown command exits 1" test "$rc2" = 1
check "no path exits 1" test "$rc3" = 1
check "missing profile exits 1" test "$rc4" = 1
check "missing profile is named" grep -q "no-such-profile" "$tmp/err5"
check "bad store exits 1" test "$rc5" = 1
check "--lateness past its range exits 1 naming the range" \
  bash -c "test $rc6 = 1 && grep -q 'from 0 to 112' '$tmp/err6'"
mkdir -p "$tmp/empty0"
for m in sensitive quiet; do
  check "the $m profile loads" "$TRAILSIGHT" backfill -q --model "$m" "$tmp/empty0"
done
mkdir -p "$tmp/empty"
check "an empty folder: exit 0, nothing written" \
  bash -c "test -z \"\$('$TRAILSIGHT' backfill -q '$tmp/empty')\""
set +e
"$TRAILSIGHT" stream --watch "$tmp/c" --stdin >/dev/null 2>&1; rc6=$?
"$TRAILSIGHT" stream "$tmp/c" >/dev/null 2>&1; rc7=$?
"$TRAILSIGHT" backfill --watch "$tmp/c" "$tmp/c" >/dev/null 2>&1; rc8=$?
"$TRAILSIGHT" backfill --out bogus:x "$tmp/c" >/dev/null 2>&1; rc9=$?
set -e
check "stream with two sources exits 1" test "$rc6" = 1
check "stream with a PATH exits 1" test "$rc7" = 1
check "backfill with a stream option exits 1" test "$rc8" = 1
check "an unknown sink exits 1" test "$rc9" = 1
# --version after a command, as --help lists it
for cmd in backfill stream; do
  check "$cmd --version prints the version and exits 0" \
    bash -c "out=\$('$TRAILSIGHT' $cmd --version) && [ \"\$out\" = \"\$('$TRAILSIGHT' --version)\" ] && [[ \$out == 'trailsight '* ]]"
done
finish
