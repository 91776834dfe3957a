#!/usr/bin/env bash
# order.sh - a backfill's insights do not depend on the order of its
# records, and one record far in the future costs nothing:
#  - a generated 9-day corpus as one NDJSON file in time order, newest
#    first and shuffled gives byte-identical insights (peak memory and
#    counts held of each reported in the log), the same as counting in
#    time order as records come (--order time); reversed with --order time
#    loses insights and says why; stream warns once that most records
#    came late;
#  - a record dated 9999-12-31 among a day of records: backfill and
#    stream --stdin end within a second of the run without it, count it
#    as future_time 1 and name its offset, with the same insights; with
#    the guard off (--future-minutes 0) the run still ends in seconds
#    (closing the gap costs no work per empty minute).
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"

"$TRAILSIGHT_GEN" --out "$tmp/c" --seed 3 --days 9 --apis 8 --rate 4 --anomalies 2 \
  --kinds spike,drop,error --anomaly-after 8 --quiet --no-digests
off=$(python3 "$TS_SOURCE_DIR/tests/cli/order_ndjson.py" "$tmp/c/AWSLogs" "$tmp" \
  --future 2026-01-13)
records=$(jq .records "$tmp/c/labels.json")
check "NDJSON files written ($records records)" \
  test "$(wc -l < "$tmp/rev.ndjson")" = "$records"

for f in time rev shuf; do
  "$TRAILSIGHT" backfill --stats "$tmp/$f.json" "$tmp/$f.ndjson" > "$tmp/$f.out" 2> "$tmp/$f.err"
  check "$f: exits 0" true
  check "$f: every record counted" test "$(jq .records_counted "$tmp/$f.json")" = "$records"
  check "$f: none late" test "$(jq .records_late "$tmp/$f.json")" = 0
  echo "$f: peak_rss_kb $(jq .peak_rss_kb "$tmp/$f.json"), held $(jq -c .order "$tmp/$f.json"), $(jq .elapsed_seconds "$tmp/$f.json") s"
done
check "insights were written" test "$(grep -c '"state":"Start"' "$tmp/time.out")" -ge 1
check "newest first: byte-identical insights" cmp "$tmp/time.out" "$tmp/rev.out"
check "shuffled: byte-identical insights" cmp "$tmp/time.out" "$tmp/shuf.out"
check "the summary says the records were put in time order" grep -q "out of time order" "$tmp/rev.err"
check "stats: out_of_order for newest first" test "$(jq .order.out_of_order "$tmp/rev.json")" = true
check "time order: not out of order" test "$(jq .order.out_of_order "$tmp/time.json")" = false
check "time order: the summary does not say so" bash -c "! grep -q 'out of time order' '$tmp/time.err'"

# counting as records come (bounded memory) gives the same for time order
"$TRAILSIGHT" backfill -q --order time --stats "$tmp/t2.json" "$tmp/time.ndjson" > "$tmp/t2.out"
check "--order time on time order: the same insights" cmp "$tmp/time.out" "$tmp/t2.out"
check "--order time holds nothing" test "$(jq .order.held_peak "$tmp/t2.json")" = 0
# ... and fails on newest first, saying what to do
"$TRAILSIGHT" backfill --order time --stats "$tmp/r2.json" "$tmp/rev.ndjson" > "$tmp/r2.out" 2> "$tmp/r2.err"
check "--order time on newest first: most records late" \
  test "$(jq .records_late "$tmp/r2.json")" -gt "$((records / 2))"
check "--order time on newest first: other insights" bash -c "! cmp -s '$tmp/time.out' '$tmp/r2.out'"
check "--order time on newest first: the summary names --order any" grep -q -- "--order any" "$tmp/r2.err"
# a stream keeps the lateness and says once that records come late
"$TRAILSIGHT" stream --stdin < "$tmp/rev.ndjson" > /dev/null 2> "$tmp/s.err"
check "stream on newest first: warned once" test "$(grep -c "stream expects records in time order" "$tmp/s.err")" = 1

# one record dated 9999-12-31 among a day of records
t_run() { # t_run NAME ARGS...: runs trailsight, its elapsed milliseconds in $tmp/NAME.ms
  local name=$1 t0 t1
  shift
  t0=$(date +%s%N)
  "$TRAILSIGHT" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000)) > "$tmp/$name.ms"
  echo "$name: $(cat "$tmp/$name.ms") ms"
}
within_a_second() { test "$(cat "$tmp/$1.ms")" -lt "$(($(cat "$tmp/$2.ms") + 1000))"; }
t_run bday backfill --stats "$tmp/bday.json" "$tmp/day.ndjson"
t_run bfut backfill --stats "$tmp/bfut.json" "$tmp/dayf.ndjson"
t_run boff backfill --future-minutes 0 "$tmp/dayf.ndjson"
check "backfill: future_time 1" test "$(jq .skipped_by_reason.future_time "$tmp/bfut.json")" = 1
check "backfill: the others all counted" \
  test "$(jq .records_counted "$tmp/bfut.json")" = "$(jq .records_counted "$tmp/bday.json")"
check "backfill: its file and offset named" grep -q "dayf.ndjson': offset $off: eventTime far ahead" "$tmp/bfut.err"
check "backfill: the same insights" cmp "$tmp/bday.out" "$tmp/bfut.out"
check "backfill: within a second of the run without it" within_a_second bfut bday
check "backfill, guard off: no hang (within 10 s of the run without it)" \
  test "$(cat "$tmp/boff.ms")" -lt "$(($(cat "$tmp/bday.ms") + 10000))"
t_run sday stream --stdin --stats "$tmp/sday.json" < "$tmp/day.ndjson"
t_run sfut stream --stdin --stats "$tmp/sfut.json" < "$tmp/dayf.ndjson"
check "stream: future_time 1" test "$(jq .skipped_by_reason.future_time "$tmp/sfut.json")" = 1
check "stream: its offset named" grep -q "offset $off: eventTime far ahead" "$tmp/sfut.err"
check "stream: the same insights" cmp <(no_decision "$tmp/sday.out") <(no_decision "$tmp/sfut.out")
check "stream: within a second of the run without it" within_a_second sfut sday
finish
