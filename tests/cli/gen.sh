#!/usr/bin/env bash
# gen.sh - command-line test of trailsight-gen (tools/gen.c): the same seed
# gives the same bytes whatever --jobs, another seed other bytes; the S3
# layout and file names; every file is gzip and JSON of the right shape;
# the labels agree with the files (record count, anomaly windows, what each
# anomaly does to its series); lateness stays under 15 minutes; drifting and
# resized jobs (--job-drift, --job-size-var); weekly classes (--weekends
# varied); the labels of --subtle and --job-anomalies; --truth (the model's
# rates, as bench/ttdbound.py reads them); usage errors.
# Needs TRAILSIGHT_GEN (set by CMake) and jq.
set -euo pipefail

GEN=${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the trailsight-gen binary}
command -v jq >/dev/null || { echo "gen.sh: jq is required (tools/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME COMMAND...: passes when COMMAND succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
# same NAME GOT WANT
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi
}

args=(--days 2 --apis 10 --rate 20 --anomaly-after 1 --anomalies 3 --gzip-level 1)
"$GEN" --out "$tmp/a" "${args[@]}" --quiet
"$GEN" --out "$tmp/b" "${args[@]}" --quiet
"$GEN" --out "$tmp/j" "${args[@]}" --quiet --jobs 2
"$GEN" --out "$tmp/s" "${args[@]}" --seed 2 2>"$tmp/summary"

sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
sa=$(sums "$tmp/a")
check "same seed twice: byte-identical" test "$sa" = "$(sums "$tmp/b")"
check "--jobs 2: byte-identical to --jobs 1" test "$sa" = "$(sums "$tmp/j")"
check "another seed: different output" test "$sa" != "$(sums "$tmp/s")"
check "summary line on stderr" grep -Eq '^trailsight-gen: [0-9]+ log files \+ [0-9]+ digests, [0-9]+ records, [0-9.]+ MB JSON, [0-9.]+ MB gzip, [0-9]+ anomalies, [0-9.]+ s$' "$tmp/summary"

# --- layout: every file is a log file, a digest or labels.json
cd "$tmp/a"
find . -type f | sed 's|^\./||' | sort >"$tmp/files"
re_region='[a-z]{2}-[a-z]+-[0-9]'
re_log="^AWSLogs/([0-9]{12})/CloudTrail/($re_region)/([0-9]{4})/([0-9]{2})/([0-9]{2})/\\1_CloudTrail_\\2_\\3\\4\\5T[0-9]{4}Z_[A-Za-z0-9]{16}\\.json\\.gz\$"
re_dig="^AWSLogs/([0-9]{12})/CloudTrail-Digest/($re_region)/([0-9]{4})/([0-9]{2})/([0-9]{2})/\\1_CloudTrail-Digest_\\2_[A-Za-z0-9-]+_\\2_\\3\\4\\5T[0-9]{4}Z\\.json\\.gz\$"
grep -E "$re_log" "$tmp/files" >"$tmp/logs" || true
grep -E "$re_dig" "$tmp/files" >"$tmp/digests" || true
nlog=$(wc -l <"$tmp/logs")
ndig=$(wc -l <"$tmp/digests")
nall=$(wc -l <"$tmp/files")
same "every file matches the S3 layout" "$((nlog + ndig + 1))" "$nall"
check "labels.json present" test -f labels.json
# 2 days of 5-minute files (a quiet slot may have none) and one digest an hour
check "about one log file per 5 minutes ($nlog)" test "$nlog" -ge 540 -a "$nlog" -le 577
check "one digest per hour ($ndig)" test "$ndig" -ge 48 -a "$ndig" -le 49

# --- every file is valid gzip and JSON of the right shape
check "every file is valid gzip" bash -c 'xargs gzip -t <"$1"' _ <(cat "$tmp/logs" "$tmp/digests")
mkdir "$tmp/x"
cp -r AWSLogs "$tmp/x/"
find "$tmp/x" -name '*.gz' -print0 | xargs -0 gunzip
cd "$tmp/x"
sed 's/\.gz$//' "$tmp/logs" >"$tmp/logs.json"
sed 's/\.gz$//' "$tmp/digests" >"$tmp/digests.json"

# one jq pass over the log files: per file a line "F, keys ok, records,
# records with a bad field, smallest and largest (delivery - eventTime) in
# seconds"; per record a line "R, account, region, source, name, time,
# errorCode, arn"
xargs jq -r '
  (input_filename | split("/")) as $p
  | ($p[-1] | capture("_(?<t>[0-9]{8}T[0-9]{4})Z_").t + "00Z"
     | strptime("%Y%m%dT%H%M%SZ") | mktime) as $d
  | [.Records[] | $d - (.eventTime | fromdateiso8601)] as $lag
  | ([ "F", (keys == ["Records"] and (.Records | type) == "array"),
      (.Records | length),
      ([.Records[] | select(
          .eventVersion != "1.09" or .eventType != "AwsApiCall"
          or .managementEvent != true or .eventCategory != "Management"
          or .recipientAccountId != $p[1] or .awsRegion != $p[3]
          or (.eventSource | test("^[a-z0-9-]+\\.amazonaws\\.com$") | not)
          or (.eventName | type) != "string" or (.readOnly | type) != "boolean"
          or (.eventID | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$") | not)
          or (.userIdentity | type) != "object" or (.userAgent | type) != "string"
          or ((.errorCode != null) and ((.errorMessage | type) != "string")))] | length),
      ($lag | min), ($lag | max) ] | @tsv),
    (.Records[] | [ "R", .recipientAccountId, .awsRegion, .eventSource, .eventName,
      (.eventTime | fromdateiso8601), (.errorCode // "-"), (.userIdentity.arn // "-")] | @tsv)
  ' <"$tmp/logs.json" >"$tmp/jqout"
awk -F'\t' -v OFS='\t' '$1 == "F" {$1 = ""; print substr($0, 2)}' "$tmp/jqout" >"$tmp/perfile"
awk -F'\t' -v OFS='\t' '$1 == "R" {$1 = ""; print substr($0, 2)}' "$tmp/jqout" >"$tmp/recs"
same "jq read every log file" "$(wc -l <"$tmp/perfile")" "$nlog"
same "every log file is {\"Records\":[...]}" "$(awk -F'\t' '$1 != "true"' "$tmp/perfile" | wc -l)" 0
same "every record has the CloudTrail fields" "$(awk -F'\t' '{s += $3} END {print s + 0}' "$tmp/perfile")" 0
check "eventTime before delivery, at most 15 min late" \
	awk -F'\t' '$4 <= 0 || $5 > 900 {bad = 1} END {exit bad}' "$tmp/perfile"
records=$(awk -F'\t' '{s += $2} END {print s + 0}' "$tmp/perfile")
same "labels.records equals the records in the files" "$(jq .records "$tmp/a/labels.json")" "$records"
check "records are 0.6-2 KB" bash -c 'n=$(stat -c %s $(cat "$1") | awk "{s+=\$1} END {print s}"); a=$((n / $2)); [ $a -ge 600 ] && [ $a -le 2000 ]' _ "$tmp/logs.json" "$records"

# digests: the right keys, and together they list every log file once
xargs jq -r 'select((has("awsAccountId") and has("digestStartTime") and has("digestEndTime")
  and (.logFiles | type) == "array") | not) | input_filename' <"$tmp/digests.json" >"$tmp/baddig"
same "every digest has the digest keys" "$(wc -l <"$tmp/baddig")" 0
xargs jq -r '.logFiles[].s3Object' <"$tmp/digests.json" | sort >"$tmp/digested"
check "digests list every log file exactly once" cmp -s "$tmp/digested" "$tmp/logs"

# --- labels
jqe() { jq -e "$@" >/dev/null; }
L=$tmp/a/labels.json
t0=$(jq -r '.start | fromdateiso8601' "$L")
check "labels header" jqe '.generator == "trailsight-gen" and .seed == 1 and .days == 2
  and .start == "2026-01-05T00:00:00Z" and (.accounts | length) == 1
  and (.accounts[0] | test("^[0-9]{12}$")) and .regions == ["us-east-1"]' "$L"
check "at least one anomaly" jqe '(.anomalies | length) >= 1' "$L"
check "anomalies: start < end, inside the corpus, after --anomaly-after" \
	jqe --argjson t0 "$t0" 'all(.anomalies[];
    (.start | fromdateiso8601) as $s | (.end | fromdateiso8601) as $e
    | $s < $e and $s >= $t0 + 86400 and $e <= $t0 + 2 * 86400
    and (.kind | IN("spike", "drop", "error", "ramp"))
    and (.insightType == (if .kind == "error" then "ApiErrorRateInsight" else "ApiCallRateInsight" end))
    and ((.kind == "error") == (.errorCode != null)))' "$L"
check "anomalies sorted by start, ids 1..n" jqe '.anomalies
  | (map(.start) == (map(.start) | sort)) and (map(.id) == [range(1; length + 1)])' "$L"
check "anomalies do not overlap on a series" jqe '[.anomalies
  | group_by([.account, .region, .eventSource, .eventName, .insightType, .errorCode])[]
  | sort_by(.start) | . as $g | range(1; length) | $g[. - 1].end <= $g[.].start] | all' "$L"
check "ramps begin before their labelled start" jqe 'all(.anomalies[] | select(.kind == "ramp");
  .rampBegin <= .start)' "$L"
check "regular entries are well formed" jqe 'all(.regular[];
  (.kind | IN("hourly_cron", "daily_cron", "chronic_errors", "rare"))
  and (if .kind == "hourly_cron" then (.minute >= 0 and .minute < 60)
       elif .kind == "daily_cron" then (.time | test("^[0-2][0-9]:[0-5][0-9]$"))
       elif .kind == "chronic_errors" then (.errorCode | type) == "string"
       else .perDay > 0 end))' "$L"

# what each anomaly does to its series ($tmp/recs: one line per record)
jq -r '.anomalies[] | [.id, .kind, .account, .region, .eventSource, .eventName,
  (.start | fromdateiso8601), (.end | fromdateiso8601), .factor, .baseRate,
  (.errorCode // "-"), (.userIdentityArn // "-")] | @tsv' "$L" >"$tmp/anoms"
while IFS=$'\t' read -r id kind acct reg src name s e factor base code arn; do
	verdict=$(awk -F'\t' -v a="$acct" -v r="$reg" -v src="$src" -v n="$name" -v s="$s" \
		-v e="$e" -v k="$kind" -v f="$factor" -v b="$base" -v code="$code" -v arn="$arn" '
		$1 == a && $2 == r && $3 == src && $4 == n && $5 >= s && $5 < e {
			calls++; if (code != "-" && $6 == code) errs++; if ($7 == arn) new++ }
		END {
			min = (e - s) / 60; rate = calls / min
			if (k == "drop") ok = calls == 0
			else if (k == "spike") ok = new > 0 && rate >= 0.5 * f * b
			else if (k == "error") ok = calls > 0 && errs / calls >= 0.5 * f
			else ok = rate >= 2 * b
			printf "%s %d calls, %.2f/min (base %.2f)", ok ? "ok" : "bad", calls, rate, b
			if (k == "error") printf ", %d %s", errs, code
			if (k == "spike") printf ", %d from the new principal", new
		}' "$tmp/recs")
	case $verdict in
	ok*) ok "anomaly $id ($kind $name) shows in the records: ${verdict#ok }" ;;
	*) bad "anomaly $id ($kind $name) shows in the records" "${verdict#bad }" ;;
	esac
done <"$tmp/anoms"
jq -r '.regular[] | select(.kind == "rare") | [.eventSource, .eventName] | @tsv' "$L" >"$tmp/rare"
while IFS=$'\t' read -r src name; do
	n=$(awk -F'\t' -v src="$src" -v n="$name" '$3 == src && $4 == n' "$tmp/recs" | wc -l)
	check "rare API $name stays rare ($n calls in 2 days)" test "$n" -le 30
done <"$tmp/rare"

# --- a drop: the series falls silent in its window after a busy hour
"$GEN" --out "$tmp/d" --days 2 --apis 4 --rate 40 --kinds drop --anomalies 1 --anomaly-after 1 --gzip-level 1 --quiet
D=$tmp/d/labels.json
if jqe '(.anomalies | length) == 1 and .anomalies[0].kind == "drop"' "$D"; then
	read -r src name s e < <(jq -r '.anomalies[0] | [.eventSource, .eventName,
	  (.start | fromdateiso8601), (.end | fromdateiso8601)] | @tsv' "$D")
	lo=$(date -u -d "@$((s - 3600))" +%Y%m%dT%H%M)
	hi=$(date -u -d "@$((e + 900))" +%Y%m%dT%H%M)
	# only the files delivered from an hour before the drop to 15 min after it
	find "$tmp/d/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' | sort |
		awk -v lo="$lo" -v hi="$hi" '{ t = $0; sub(/.*_CloudTrail_[^_]*_/, "", t);
			t = substr(t, 1, 13); if (t >= lo && t <= hi) print }' >"$tmp/dfiles"
	read -r before during < <(xargs zcat <"$tmp/dfiles" | jq -rn --arg src "$src" \
		--arg name "$name" --argjson s "$s" --argjson e "$e" '
		[inputs | .Records[] | select(.eventSource == $src and .eventName == $name)
		 | .eventTime | fromdateiso8601] as $t
		| [([$t[] | select(. >= $s - 3600 and . < $s)] | length),
		   ([$t[] | select(. >= $s and . < $e)] | length)] | @tsv')
	check "drop: $name busy before ($before calls in the hour), silent during ($during)" \
		test "$before" -ge 300 -a "$during" -eq 0
else
	bad "a drop was placed with --kinds drop"
fi

# --- drifting and resized jobs: every run of an hourly job within the
# drift of its minute, not always on it, and of varying size; the labels
# say so; the same seed without the options is unchanged (checked above
# through the same bytes for the same options)
"$GEN" --out "$tmp/jd" --seed 3 --days 2 --apis 40 --rate 40 --anomalies 0 --gzip-level 1 \
	--job-drift 2 --job-size-var 0.5 --quiet
LJ=$tmp/jd/labels.json
check "labels: jobDrift and jobSizeVar" jqe '.jobDrift == 2 and .jobSizeVar == 0.5' "$LJ"
hourly=$(jq -c '[.regular[] | select(.kind == "hourly_cron")][0]' "$LJ")
if [ "$hourly" != null ]; then
	check "labels: the job's drift and size variation" \
		jqe '[.regular[] | select(.kind == "hourly_cron" or .kind == "daily_cron")]
		  | length > 0 and all(.drift == 2 and .sizeVar == 0.5)' "$LJ"
	# the job principal's calls per minute of the hour, hour by hour
	find "$tmp/jd/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' -print0 |
		xargs -0 zcat | jq -r --argjson h "$hourly" '.Records[]
		  | select(.userIdentity.arn == $h.userIdentityArn and .eventName == $h.eventName
			   and .recipientAccountId == $h.account and .awsRegion == $h.region)
		  | .eventTime[0:16]' | sort | uniq -c >"$tmp/jobmin"
	runs=$(python3 - "$tmp/jobmin" "$(jq .minute <<<"$hourly")" <<'PY'
import sys
minute = int(sys.argv[2])
by_hour = {}
for line in open(sys.argv[1]):
    n, t = line.split()
    h = t[:13]
    m = int(t[14:16])
    if n and (h not in by_hour or int(n) > by_hour[h][0]):
        by_hour[h] = (int(n), m)
offs = [((m - minute + 30) % 60) - 30 for n, m in by_hour.values()]
sizes = [n for n, m in by_hour.values()]
print(len(by_hour), max(abs(o) for o in offs), len(set(offs)), min(sizes), max(sizes))
PY
)
	read -r nruns maxoff noffs smin smax <<<"$runs"
	check "an hourly job ran about every hour ($nruns runs)" test "$nruns" -ge 40
	check "its runs within 2 minutes of its minute (at most $maxoff off)" test "$maxoff" -le 2
	check "its runs not all at one offset ($noffs offsets)" test "$noffs" -ge 3
	check "its runs of varying size ($smin to $smax calls)" test "$smax" -ge $((smin * 3 / 2))
else
	bad "no hourly job in the drift corpus"
fi
# --- --weekends varied: machine APIs about as busy at weekends as on
# weekdays, people's APIs at about a sixth, as the labels say, counted in
# the records of one week; each calendar week its own level
"$GEN" --out "$tmp/wv" --seed 3 --days 7 --apis 12 --rate 30 --anomalies 0 --gzip-level 1 \
	--weekends varied --quiet
LW=$tmp/wv/labels.json
check "labels: weekends varied, a weekly entry per API" \
	jqe '.weekends == "varied" and (.weekly | length) == .apis' "$LW"
# per busy API without a regular role: "class ratio label", ratio = weekend
# calls per day / weekday calls per day
python3 - "$tmp/wv" "$LW" >"$tmp/weekly" <<'PY'
import datetime, gzip, json, os, sys
root, labels = sys.argv[1], json.load(open(sys.argv[2]))
skip = {(r["eventSource"], r["eventName"]) for r in labels["regular"]}
cnt = {}
for d, _, fs in os.walk(os.path.join(root, "AWSLogs")):
    if "/CloudTrail/" not in d + "/":
        continue
    for f in fs:
        for r in json.load(gzip.open(os.path.join(d, f)))["Records"]:
            weekend = datetime.date.fromisoformat(r["eventTime"][:10]).weekday() >= 5
            cnt.setdefault((r["eventSource"], r["eventName"]), [0, 0])[weekend] += 1
for w in labels["weekly"]:
    k = (w["eventSource"], w["eventName"])
    wk, we = cnt.get(k, [0, 0])
    if k not in skip and wk >= 5 * 300:
        print(w["class"], (we / 2) / (wk / 5), w["weekend"][0])
PY
nm=$(awk '$1 == "machine" && $2 >= 0.8 && $2 <= 1.2' "$tmp/weekly" | wc -l)
np=$(awk '$1 == "people" && $2 >= 0.1 && $2 <= 0.25' "$tmp/weekly" | wc -l)
check "weekends: busy machine APIs at 0.8-1.2 of weekdays ($nm)" test "$nm" -ge 2
check "weekends: busy people APIs at 0.1-0.25 of weekdays ($np)" test "$np" -ge 2
check "weekends: every busy API within 0.05 of its label" \
	awk '{ d = $2 - $3; if (d < -0.05 || d > 0.05) bad = 1 } END { exit bad || NR < 4 }' \
	"$tmp/weekly"
"$GEN" --out "$tmp/w2" --seed 3 --days 14 --apis 30 --rate 1 --anomalies 0 --gzip-level 0 \
	--weekends varied --no-digests --quiet
check "weekends: two calendar weeks, each API its own level each week" \
	jqe '[.weekly[] | .weekend | length == 2 and .[0] != .[1]] | all' "$tmp/w2/labels.json"
check "weekends: machine 0.81-1.16, people 0.10-0.25, mixed 0.27-0.88" \
	jqe '[.weekly[] | .weekend[] as $l | .class as $c
	  | if $c == "machine" then $l >= 0.81 and $l <= 1.16
	    elif $c == "people" then $l >= 0.10 and $l <= 0.25
	    else $l >= 0.27 and $l <= 0.88 end] | all' "$tmp/w2/labels.json"
check "weekends: all three classes among 30 APIs" \
	jqe '[.weekly[].class] | unique == ["machine", "mixed", "people"]' "$tmp/w2/labels.json"
check "weekends uniform (default): no weekly labels" jqe '.weekly == null' "$L"

# --- --subtle and --job-anomalies: small anomalies in range, job anomalies
# on job series; only the labels are read (no records are checked)
"$GEN" --out "$tmp/sj" --seed 5 --days 9 --apis 60 --rate 60 --gzip-level 0 --no-digests \
	--subtle --job-anomalies 4 --job-drift 2 --quiet
LS=$tmp/sj/labels.json
check "labels: subtle and jobAnomalies in the header" \
	jqe '.subtle == true and .jobAnomalies == 4' "$LS"
check "subtle: spikes x1.8-x4, drops to 10-40%, errors on 5-25% of the calls" \
	jqe '[.anomalies[] | select(.kind == "spike") | .factor >= 1.8 and .factor <= 4]
	  + [.anomalies[] | select(.kind == "drop") | .factor >= 0.1 and .factor <= 0.4]
	  + [.anomalies[] | select(.kind == "error") | .factor >= 0.05 and .factor <= 0.25]
	  | length > 0 and all' "$LS"
check "job anomalies: two job_stop and two job_burst, each on a job series" \
	jqe '([.anomalies[] | select(.kind == "job_stop")] | length) == 2
	  and ([.anomalies[] | select(.kind == "job_burst") | .factor == 10] | length) == 2
	  and ([.regular[] | select(.kind == "hourly_cron" or .kind == "daily_cron")
		| .eventSource + .eventName + .account + .region] as $jobs
	       | [.anomalies[] | select(.kind | startswith("job_"))
		  | (.eventSource + .eventName + .account + .region) as $k | $jobs | index($k) != null]
	       | all)' "$LS"

# --- --truth: the model's expected rates, and no corpus; the rate of each
# anomaly's series at its start is its label's baseRate (bench/ttdbound.py
# reads them)
"$GEN" --truth "$tmp/truth.json" --out "$tmp/t" "${args[@]}"
check "--truth writes no corpus" test ! -e "$tmp/t"
check "--truth: every label's baseRate" python3 - "$TS_SOURCE_DIR/bench" "$tmp/a/labels.json" "$tmp/truth.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import ttdbound
lab, tr = (json.load(open(p)) for p in sys.argv[2:4])
ser = {(s["account"], s["region"], s["eventSource"], s["eventName"]): s for s in tr["series"]}
t0 = ttdbound.secs(lab["start"])
bad = [a["id"] for a in lab["anomalies"]
       if "%.4g" % ttdbound.model_rate(ser[(a["account"], a["region"], a["eventSource"], a["eventName"])],
                                       tr["startDay"], round((ttdbound.secs(a["start"]) - t0) / 60))
       != "%.4g" % a["baseRate"]]
sys.exit(1 if bad or not lab["anomalies"] else 0)
PY
check "bench/ttdbound.py runs on the corpus and its truth" bash -c \
	'python3 "$1/bench/ttdbound.py" "$2" --truth "$3" >/dev/null' _ "$TS_SOURCE_DIR" "$tmp/a" "$tmp/truth.json"

# --- usage
check "--help exits 0" bash -c '"$1" --help | grep -q -- "--anomaly-after"' _ "$GEN"
usage_fails() { ! "$GEN" "$@" >/dev/null 2>&1; }
check "bad option exits non-zero" usage_fails --out "$tmp/u" --bogus 1
bad_usage_rc() { local rc=0; "$GEN" "$@" >/dev/null 2>&1 || rc=$?; [ "$rc" -eq 1 ]; }
check "bad option exits 1" bad_usage_rc --out "$tmp/u" --bogus 1
check "missing --out exits 1" bad_usage_rc --days 1
check "--days 0 exits 1" bad_usage_rc --out "$tmp/u" --days 0
check "--kinds bogus exits 1" bad_usage_rc --out "$tmp/u" --kinds spike,bogus
check "--start not a date exits 1" bad_usage_rc --out "$tmp/u" --start 2026-02-30
check "--job-drift 11 exits 1" bad_usage_rc --out "$tmp/u" --job-drift 11
check "--job-size-var 1 exits 1" bad_usage_rc --out "$tmp/u" --job-size-var 1
check "--weekends bogus exits 1" bad_usage_rc --out "$tmp/u" --weekends bogus
check "--job-anomalies bogus exits 1" bad_usage_rc --out "$tmp/u" --job-anomalies x
check "unwritable --out exits 1" bad_usage_rc --out /proc/trailsight-gen-test --days 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
