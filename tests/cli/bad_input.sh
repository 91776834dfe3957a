#!/usr/bin/env bash
# bad_input.sh - every kind of bad input is counted, reported with its file
# (and offset), and skipped; every good record around it is still counted;
# the process never crashes; --strict turns skips into exit 3.
source "$(dirname "$0")/lib.sh"
d=$tmp/in/AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/01
mkdir -p "$d" "$tmp/in/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/10/01"
python3 - "$d" "$tmp/in" <<'PY'
import gzip, json, sys
d, root = sys.argv[1], sys.argv[2]
n = [0]
def rec(**over):
    n[0] += 1
    r = {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"},
         "eventTime": "2024-10-01T10:%02d:00Z" % (n[0] % 60), "eventSource": "ec2.amazonaws.com",
         "eventName": "RunInstances", "awsRegion": "us-east-1", "userAgent": "aws-cli/2",
         "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
         "recipientAccountId": "111122223333", "eventCategory": "Management"}
    r.update(over)
    return json.dumps(r)
def records(*rs):
    return '{"Records":[' + ",".join(rs) + ']}'
w = lambda name, data, mode="w": open(d + "/" + name, mode).write(data)
w("a_good.json", records(rec(), rec()))
body = (records(rec(), rec(), rec()) + " " * 200).encode()
gz = gzip.compress(body)
w("b_trunc.json.gz", gz[:-12], "wb")
w("c_invalid.json", records(rec(), '{"eventTime": "2024-10-01T10:00:00Z", "eventSource" }', rec()))
w("c_missing_brace.json", records(rec(), rec()[:-1], rec()))
bad_time = rec()
w("d_noeventtime.json", records(rec(eventTime=None), rec(), rec(eventTime="2023-02-30T00:00:00Z")))
w("e_big.json", records(rec(), rec(requestParameters={"blob": "x" * (1100 * 1024)}), rec()))
w("f_nonutf8.json", (records(rec(), rec(userAgent="NONUTF8"), rec())).encode().replace(b"NONUTF8", b"bad\xff\xfe"), "wb")
w("g_empty.json", '{"Records":[]}')
w("h_notjson.json", "this is not a log\n")
open(root + "/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/10/01/111122223333_CloudTrail-Digest_us-east-1_x.json.gz", "wb").write(
    gzip.compress(b'{"awsAccountId":"111122223333","digestStartTime":"2024-10-01T09:00:00Z"}'))
print(n[0])
PY
ln -s "$tmp/does-not-exist" "$d/z_unreadable.json"

set +e
"$TRAILSIGHT" backfill --stats "$tmp/stats.json" "$tmp/in" > "$tmp/out" 2> "$tmp/err"
rc=$?
"$TRAILSIGHT" backfill -q --strict "$tmp/in" > /dev/null 2>&1
rc_strict=$?
set -e
check "exit 0 without --strict (got $rc)" test "$rc" = 0
check "exit 3 with --strict (got $rc_strict)" test "$rc_strict" = 3
check "no sanitizer or crash report" bash -c "! grep -qiE 'sanitizer|runtime error|segv' '$tmp/err'"

s=$tmp/stats.json
got() { jq -r "$1" "$s"; }
# good records: 2 + 3 (the truncated gzip's complete records) + 2 + 2 + 1 + 2 + 2
check "every good record counted ($(got .records_counted))" test "$(got .records_counted)" = 14
check "truncated gzip reported" test "$(got '.skipped_by_reason.truncated')" = 1
check "invalid JSON reported, twice ($(got '.skipped_by_reason.json'))" test "$(got '.skipped_by_reason.json')" = 2
check "record without eventTime reported" test "$(got '.skipped_by_reason.no_event_time')" = 1
check "malformed eventTime reported" test "$(got '.skipped_by_reason.bad_event_time')" = 1
check "oversized record reported" test "$(got '.skipped_by_reason.toobig')" = 1
check "non-UTF-8 record reported" test "$(got '.skipped_by_reason.utf8')" = 1
check "not-a-log file reported" test "$(got '.skipped_by_reason.not_a_log')" = 1
check "unreadable file reported" test "$(got '.files_failed')" = 1
check "digest folder passed over" test "$(got '.files_ignored')" -ge 1
check "warnings name the file" grep -q "b_trunc.json.gz" "$tmp/err"
check "warnings give the offset" grep -q "c_invalid.json': offset [0-9]" "$tmp/err"
check "unreadable file named" grep -q "cannot read .*z_unreadable.json" "$tmp/err"
check "summary says what was skipped" grep -q "skipped" "$tmp/err"
check "skipped is the sum of the reasons" \
  test "$(got .skipped)" = "$(jq '[.skipped_by_reason[]] | add // 0' "$s")"

# records the engine refuses (no account, a ':' in a Region) are skipped
# once, as bad_field, and read; --stats and the summary agree
mkdir -p "$tmp/acct"
python3 - "$tmp/acct/x.json" <<'PY'
import json, sys
r = {"eventTime": "2024-10-01T10:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
     "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "eventType": "AwsApiCall"}
bad1 = dict(r); del bad1["recipientAccountId"]
bad2 = dict(r, awsRegion="us:east-1")
open(sys.argv[1], "w").write(json.dumps({"Records": [r, bad1, bad2]}))
PY
"$TRAILSIGHT" backfill --stats "$tmp/acct.json" "$tmp/acct/x.json" > /dev/null 2> "$tmp/acct.err"
a() { jq -r "$1" "$tmp/acct.json"; }
check "engine refusals: one counted ($(a .records_counted))" test "$(a .records_counted)" = 1
check "engine refusals: two skipped, not four ($(a .skipped))" test "$(a .skipped)" = 2
check "engine refusals: as bad_field" test "$(a .skipped_by_reason.bad_field)" = 2
check "engine refusals: three read" test "$(a .records_read)" = 3
check "engine refusals: the summary says 2" grep -q "skipped 2 (missing or malformed field 2)" "$tmp/acct.err"

# gzip faults: both inflate paths report the same skips at the same offsets
# and count the same records around them
g=$tmp/gz/AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/02
mkdir -p "$g"
python3 - "$g" <<'PY'
import gzip, json, os, sys, zlib
d = sys.argv[1]
def recs(k, n):
    return '{"Records":[' + ",".join(json.dumps({
        "eventTime": "2024-10-02T%02d:%02d:00Z" % (k, i % 60), "eventSource": "s3.amazonaws.com",
        "eventName": "PutObject", "awsRegion": "us-east-1", "readOnly": False,
        "managementEvent": True, "eventCategory": "Management",
        "recipientAccountId": "111122223333", "userIdentity": {"arn": "arn:aws:iam::1:user/u%d" % i},
        "requestParameters": {"pad": "y" * (i * 37 % 900)}}) for i in range(n)) + ']}'
good = gzip.compress(recs(1, 400).encode())
w = lambda name, data: open(os.path.join(d, name), "wb").write(data)
w("a_ok.json.gz", good)
bad = bytearray(gzip.compress(recs(2, 300).encode()))
bad[-6] ^= 0x55                                  # CRC-32 of the member wrong
w("b_badcrc.json.gz", bytes(bad))
w("c_trunc.json.gz", gzip.compress(recs(3, 300).encode())[:-2000])
w("d_members.json.gz", gzip.compress(recs(4, 200).encode()) + gzip.compress(recs(5, 200).encode()))
w("e_member_bad.json.gz", gzip.compress(recs(6, 200).encode()) + bytes(bad))
w("f_trailing.json.gz", good + b"\0\0\0garbage")
body = bytearray(gzip.compress(recs(7, 300).encode()))
body[len(body) // 2] ^= 0xff                     # a flipped byte in the deflate data
w("g_flip.json.gz", bytes(body))
w("0_bomb.json.gz", gzip.compress(b'{"Records":[' + b" " * (64 << 20) + b']}', 9))
PY
for mode in fast zlib; do
  set +e
  "$TRAILSIGHT" backfill --threads 1 --inflate $mode --stats "$tmp/gz_$mode.json" "$tmp/gz" \
    > /dev/null 2> "$tmp/gz_$mode.err"
  set -e
  grep -E "^trailsight: .*offset" "$tmp/gz_$mode.err" > "$tmp/gz_$mode.lines" || true
done
check "gzip faults: the streaming path reports some" test -s "$tmp/gz_zlib.lines"
check "gzip faults: the same skips, files and offsets on both paths" \
  cmp -s "$tmp/gz_fast.lines" "$tmp/gz_zlib.lines"
for k in records_counted skipped bytes_read bytes_inflated; do
  check "gzip faults: the same $k on both paths" \
    test "$(jq ".$k" "$tmp/gz_fast.json")" = "$(jq ".$k" "$tmp/gz_zlib.json")"
done
check "gzip faults: bad CRC reported with its file" grep -q "b_badcrc.json.gz" "$tmp/gz_fast.lines"
check "gzip faults: truncated member reported with its file" grep -q "c_trunc.json.gz.*offset" "$tmp/gz_fast.lines"
check "gzip faults: the bomb is stopped by the ratio cap" grep -q "0_bomb.json.gz.*ratio" "$tmp/gz_fast.lines"
check "gzip faults: both members of a two-member file counted" \
  test "$(jq .records_counted "$tmp/gz_fast.json")" -ge 800
finish
