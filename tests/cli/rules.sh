#!/usr/bin/env bash
# rules.sh - suppression rules, scope overrides and flapping control on a
# generated corpus with known callers (rules_gen.py): an AWS service's burst
# is dropped by the starter rules file while a user's identical burst is
# not; unjudged and mark rules; rule counts in the summary, --stats and the
# metrics; bad rules files and override blocks named by line; an override
# changes the insights of exactly the series in its scope; cooldown (the
# quiet time after an End) and max_open (open insights per partition).
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
starter=$TS_SOURCE_DIR/models/rules/aws-services.rules
python3 "$TS_SOURCE_DIR/tests/cli/rules_gen.py" "$tmp/c.ndjson" "$tmp/sum.json"
service=$(jq .service "$tmp/sum.json")
bob=$(jq .bob "$tmp/sum.json")

# min_count 200 keeps carol's mild iam burst (160 calls in 10 minutes)
# below every window; the rise scan, which would judge it at half that,
# is off, so only the override below finds it
cat > "$tmp/base.profile" <<'P'
name = rulestest
warmup_days = 2
history_days = 3
min_count = 200
scan_min_share = 0
P
# what the corpus gives: "STATE NAME MODEL" per event
events() { jq -r '[.insightDetails.state, .insightDetails.eventName,
  (.insightDetails.trailsightContext.model // "-")] | join(" ")' "$1"; }
starts() { jq -r 'select(.insightDetails.state == "Start") | .insightDetails.eventName' "$1" | sort | tr '\n' ' '; }

"$TRAILSIGHT" backfill -q --model "$tmp/base.profile" --stats "$tmp/s0.json" "$tmp/c.ndjson" > "$tmp/o0.ndjson"
check "without rules both bursts and both flaps start an insight" \
  test "$(starts "$tmp/o0.ndjson")" = "CreateTags DeleteTags RunInstances RunInstances "
check "without rules nothing is suppressed" test "$(jq .records_suppressed "$tmp/s0.json")" -eq 0

# 1. drop: the starter file
"$TRAILSIGHT" backfill --model "$tmp/base.profile" --rules "$starter" --stats "$tmp/s1.json" \
  "$tmp/c.ndjson" > "$tmp/o1.ndjson" 2> "$tmp/e1.txt"
check "drop: the service's burst starts nothing, the user's identical burst does" \
  test "$(starts "$tmp/o1.ndjson")" = "DeleteTags RunInstances RunInstances "
check "drop: the user's insight is the same event as without rules" \
  cmp <(grep DeleteTags "$tmp/o0.ndjson") <(grep DeleteTags "$tmp/o1.ndjson")
check "drop: every service record is taken by the first rule, from one series" \
  test "$(jq -c '.rules.by_rule[0] | [.name, .records, .series]' "$tmp/s1.json")" = "[\"invoked-by-aws-service\",$service,1]"
check "drop: the other starter rules took nothing here" \
  test "$(jq '[.rules.by_rule[1:][].records] | add' "$tmp/s1.json")" -eq 0
check "drop: records_suppressed is the service's records" \
  test "$(jq .records_suppressed "$tmp/s1.json")" -eq "$service"
check "drop: records counted drop by as many" \
  test "$(jq .records_counted "$tmp/s0.json")" -eq $(( $(jq .records_counted "$tmp/s1.json") + service ))
check "drop: the summary says what the rule took" \
  grep -q "^trailsight: rule invoked-by-aws-service (drop): $service records, 1 series, 0 insights$" "$tmp/e1.txt"
# matching is done once per API scope and per distinct caller, not per record
check "drop: the caller patterns ran on a few distinct cases, not per record" \
  test "$(jq '.rules.caller_evaluations' "$tmp/s1.json")" -lt 100
check "drop: every record looked at once" \
  test "$(jq '.rules.records_looked_at' "$tmp/s1.json")" -eq "$(jq .records "$tmp/sum.json")"

# the same rules on a user ARN: the user's burst goes, the service's stays
cat > "$tmp/bob.rules" <<'R'
rule = bob
action = drop
userIdentity.arn = arn:aws:iam::*:user/bob
R
"$TRAILSIGHT" backfill -q --model "$tmp/base.profile" --rules "$tmp/bob.rules" --stats "$tmp/sb.json" \
  "$tmp/c.ndjson" > "$tmp/ob.ndjson"
check "drop by ARN glob: only the user's burst is gone" \
  test "$(starts "$tmp/ob.ndjson")" = "CreateTags RunInstances RunInstances "
check "drop by ARN glob: it took bob's records" \
  test "$(jq '.rules.by_rule[0].records' "$tmp/sb.json")" -eq "$bob"

# stream: the same rules, the metrics file says what they took
"$TRAILSIGHT" stream -q --stdin --model "$tmp/base.profile" --rules "$starter" \
  --metrics-file "$tmp/m.prom" < "$tmp/c.ndjson" > "$tmp/os.ndjson"
check "stream: the service's burst is dropped there too" \
  test "$(starts "$tmp/os.ndjson")" = "DeleteTags RunInstances RunInstances "
check "stream: the metrics count the rule's records" \
  grep -q "^trailsight_rule_records_total{rule=\"invoked-by-aws-service\",action=\"drop\"} $service$" "$tmp/m.prom"

# 2. unjudged and mark
cat > "$tmp/series.rules" <<'R'
# the user's series: judged, insights marked
rule = bob-series
action = mark
eventName = DeleteTags
rule = create-unjudged
action = unjudged
eventSource = ec2.amazonaws.com
eventName = Create*
R
"$TRAILSIGHT" backfill -q --model "$tmp/base.profile" --rules "$tmp/series.rules" --stats "$tmp/s2.json" \
  --marked-out "$tmp/marked.ndjson" "$tmp/c.ndjson" > "$tmp/o2.ndjson"
check "unjudged and mark: neither series reaches the output" \
  test "$(starts "$tmp/o2.ndjson")" = "RunInstances RunInstances "
check "mark: its Start and End go to --marked-out, marked with the rule" \
  test "$(jq -r '[.insightDetails.state, .insightDetails.eventName, .insightDetails.trailsightContext.suppressedBy] | join(" ")' "$tmp/marked.ndjson" | tr '\n' ,)" = \
    "Start DeleteTags bob-series,End DeleteTags bob-series,"
check "mark: apart from the mark, the events are those written without rules" \
  cmp <(jq -c 'del(.insightDetails.trailsightContext.suppressedBy)' "$tmp/marked.ndjson") <(grep DeleteTags "$tmp/o0.ndjson" | jq -c .)
check "unjudged and mark: series and insights per rule" \
  test "$(jq -c '[.rules.by_rule[] | [.name, .action, .records, .series, .insights]]' "$tmp/s2.json")" = \
    '[["bob-series","mark",0,1,1],["create-unjudged","unjudged",0,1,0]]'
check "mark: the marked events are counted, not written" \
  test "$(jq -c '[.insights.start, .insights.marked]' "$tmp/s2.json")" = "[2,2]"

# 3. bad rules files: an error naming the file and line, exit 1 as a bad profile
printf '# comment\nrule = a\nuserIdentity.ar = x\n' > "$tmp/bad1.rules"
printf 'rule = a\naction = mark\nuserIdentity.arn = x\n\nrule = b\naction = drop\neventName = X\n' > "$tmp/bad2.rules"
printf 'rule = a\naction = remove\n' > "$tmp/bad3.rules"
for i in 1 2 3; do
  set +e
  "$TRAILSIGHT" backfill -q --rules "$tmp/bad$i.rules" "$tmp/c.ndjson" > /dev/null 2> "$tmp/bad$i.err"
  echo $? > "$tmp/bad$i.rc"
  set -e
  check "bad rules file $i: exit status 1" test "$(cat "$tmp/bad$i.rc")" -eq 1
done
check "bad rules file 1: the unknown key is named with its line" \
  grep -q "bad1.rules:3: unknown key 'userIdentity.ar'" "$tmp/bad1.err"
check "bad rules file 2: a caller key on a series action names the rule's line" \
  grep -q "bad2.rules:5: rule 'a' (line 1): caller keys (userIdentity.\*, userAgent) need action = drop" "$tmp/bad2.err"
check "bad rules file 3: the bad action is named with its line" \
  grep -q "bad3.rules:2: action 'remove': expected drop, unjudged or mark" "$tmp/bad3.err"
set +e
"$TRAILSIGHT" backfill -q --model "$tmp/base.profile" "$tmp/c.ndjson" > /dev/null 2> /dev/null
set -e
printf 'min_count = 3\noverride = x\np_start = 1e-5\n' > "$tmp/bad.profile"
set +e
"$TRAILSIGHT" backfill -q --model "$tmp/bad.profile" "$tmp/c.ndjson" > /dev/null 2> "$tmp/badp.err"
rc=$?
set -e
check "an override without a scope: exit 1, named with its line" \
  test $rc -eq 1 -a -n "$(grep "bad.profile: override 'x' (line 2) has no scope key" "$tmp/badp.err")"

# 4. scope overrides: the iam bursts are too mild for the base profile; an
# override for iam makes AttachRolePolicy start one, and a more specific
# one keeps DetachRolePolicy strict
cp "$tmp/base.profile" "$tmp/scoped.profile"
cat >> "$tmp/scoped.profile" <<'P'
override = iam-detach-strict
eventSource = iam.amazonaws.com
eventName = DetachRolePolicy
min_count = 100000
override = iam-loose
eventSource = iam.*
min_count = 5
P
"$TRAILSIGHT" backfill -q --model "$tmp/scoped.profile" "$tmp/c.ndjson" > "$tmp/o4.ndjson"
check "override: the base profile finds no iam insight" \
  test -z "$(grep iam.amazonaws.com "$tmp/o0.ndjson" || true)"
check "override: the scoped series, and only it, gains an insight named by its override" \
  test "$(events "$tmp/o4.ndjson" | grep RolePolicy | tr '\n' ,)" = \
    "Start AttachRolePolicy rulestest/iam-loose,End AttachRolePolicy rulestest/iam-loose,"
check "override: every other series' events are byte for byte those of the base profile" \
  cmp "$tmp/o0.ndjson" <(grep -v RolePolicy "$tmp/o4.ndjson")

# 5. flapping: min_quiet is the quiet time between an End and the next
# Start, in which no Start is judged and whose minutes no later window
# reaches (RunInstances flaps: its End is decided at 14:10, it bursts again
# at 14:24); cooldown alone only holds the judging back. max_open caps the
# insights open at once in a partition (CreateTags and DeleteTags at 12:00).
cp "$tmp/base.profile" "$tmp/quiet.profile"
echo "min_quiet = 30" >> "$tmp/quiet.profile"
"$TRAILSIGHT" backfill -q --model "$tmp/quiet.profile" "$tmp/c.ndjson" > "$tmp/o5.ndjson"
check "min_quiet 30: the flap's second Start is not written" \
  test "$(starts "$tmp/o5.ndjson")" = "CreateTags DeleteTags RunInstances "
check "min_quiet 30: every other event is that of the base profile" \
  cmp <(jq -c 'select(.eventTime < "2026-01-08T14:20:00Z")' "$tmp/o0.ndjson") <(jq -c . "$tmp/o5.ndjson")
cp "$tmp/base.profile" "$tmp/cool.profile"
echo "cooldown = 30" >> "$tmp/cool.profile"
"$TRAILSIGHT" backfill -q --model "$tmp/cool.profile" "$tmp/c.ndjson" > "$tmp/o5c.ndjson"
check "cooldown 30: the flap's second Start is judged only after it (14:40), dated at its onset (14:24)" \
  test "$(jq -r 'select(.insightDetails.eventName == "RunInstances") | .eventTime' "$tmp/o5c.ndjson" | tr '\n' ' ')" = \
    "2026-01-08T14:00:00Z 2026-01-08T14:05:00Z 2026-01-08T14:24:00Z 2026-01-08T14:45:00Z "
cp "$tmp/base.profile" "$tmp/cap.profile"
echo "max_open = 1" >> "$tmp/cap.profile"
"$TRAILSIGHT" backfill -q --model "$tmp/cap.profile" --stats "$tmp/s6.json" "$tmp/c.ndjson" > "$tmp/o6.ndjson"
check "max_open 1: one of the two simultaneous bursts starts, the flaps (never overlapping) both do" \
  test "$(starts "$tmp/o6.ndjson" | sed 's/DeleteTags/CreateTags/')" = "CreateTags RunInstances RunInstances "
check "max_open 1: the Start past the cap is counted, its End not written" \
  test "$(jq -c '[.insights.start, .insights.end, .insights.capped]' "$tmp/s6.json")" = "[3,3,1]"

# the starter file on a trailsight-gen corpus: its service roles and
# AWSService identities are dropped, by the rules that name them
"$TRAILSIGHT_GEN" --out "$tmp/g" --quiet --seed 5 --days 2 --apis 40 --rate 30 --anomalies 1 \
  --anomaly-after 1 2> /dev/null
"$TRAILSIGHT" backfill -q --rules "$starter" --stats "$tmp/sg.json" "$tmp/g/AWSLogs" > /dev/null
zcat $(find "$tmp/g/AWSLogs" -path '*CloudTrail/*' -name '*.json.gz') |
  jq -c '.Records[] | .userIdentity' > "$tmp/ids.ndjson"
want=$(jq -s '[.[] | select(.invokedBy != null)] | length' "$tmp/ids.ndjson")
check "gen corpus: the starter file takes every record with invokedBy ($want)" \
  test "$(jq '.rules.by_rule[0].records' "$tmp/sg.json")" -eq "$want" -a "$want" -gt 0
finish
