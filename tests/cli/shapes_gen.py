#!/usr/bin/env python3
"""shapes_gen.py - writes one input per shape CloudTrail records come in,
each made of its own few dozen real-looking records (some with non-ASCII
text, fractional seconds or a UTC offset in eventTime, some data events),
and beside each the counts trailsight must hold for it, recomputed here
from the records themselves (tools/check_insights.classify), as
"KEY FIELD COUNT" lines like tools/recount.py.

  shapes_gen.py OUTDIR    writes OUTDIR/<shape>/input... and
                          OUTDIR/<shape>.expected, OUTDIR/<shape>.n (the
                          number of records), and OUTDIR/shapes (the list)
"""
import datetime as dt
import gzip
import json
import os
import random
import sys
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from check_insights import classify  # noqa: E402

APIS = [("ec2.amazonaws.com", "RunInstances", False), ("ec2.amazonaws.com", "DescribeInstances", True),
        ("iam.amazonaws.com", "CreateUser", False), ("iam.amazonaws.com", "ListRoles", True),
        ("s3.amazonaws.com", "CreateBucket", False), ("sts.amazonaws.com", "AssumeRole", True),
        ("kms.amazonaws.com", "Decrypt", True), ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", False)]
USERS = ["alice", "bob", "josé", "李雷", "müller", "ops-bot"]
AGENTS = ["aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023",
          "console.amazonaws.com", "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux",
          "aws-sdk-go-v2/1.26.0 os/macos lang/go#1.22 md/GOOS#darwin — «テスト»"]


def make_records(rng, n, acct, region):
    out = []
    base = dt.datetime(2024, 10, 1, 10, 0, tzinfo=dt.timezone.utc)
    for i in range(n):
        src, name, ro = rng.choice(APIS)
        user = rng.choice(USERS)
        t = base + dt.timedelta(seconds=rng.randrange(0, 3 * 3600))
        form = i % 6
        if form == 1:  # fractional seconds
            et = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % rng.randrange(1000)
        elif form == 2:  # an offset east of UTC
            et = (t + dt.timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S") + "+05:30"
        elif form == 3:  # west of UTC, with a fraction
            et = (t - dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S") + ".5-04:00"
        else:
            et = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        r = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDA%016d" % rng.randrange(10**16),
                             "arn": "arn:aws:iam::%s:user/%s" % (acct, user), "accountId": acct,
                             "userName": user},
            "eventTime": et, "eventSource": src, "eventName": name, "awsRegion": region,
            "sourceIPAddress": "203.0.113.%d" % rng.randrange(1, 255), "userAgent": rng.choice(AGENTS),
            "requestParameters": {"note": "Zürich → 東京 ✓ %d" % i, "quote": "a \"b\" \\ c"},
            "responseElements": None, "requestID": "%08x-0000-4000-8000-%012x" % (i, rng.randrange(16**12)),
            "eventID": "%08x-1111-4000-8000-%012x" % (i, rng.randrange(16**12)),
            "readOnly": ro, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": acct, "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"},
        }
        if rng.random() < 0.15:
            r["errorCode"] = rng.choice(["AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"])
            r["errorMessage"] = "User: %s is not authorized — «refusé»" % r["userIdentity"]["arn"]
        if i % 11 == 10:  # a data event: read, not counted by default
            r.update(eventSource="s3.amazonaws.com", eventName="GetObject", readOnly=True,
                     managementEvent=False, eventCategory="Data")
        out.append(r)
    return out


def expected(recs):
    counts = defaultdict(int)
    for r in recs:
        c = classify(r)
        if c is None:
            continue
        acct, region, src, name, m, ro, code = c
        day = dt.datetime.fromtimestamp(m * 60, dt.timezone.utc).strftime("%Y%m%d")
        key = "ts:{%s:%s}:c:%s:m:%s:%s:" % (acct, region, day, src, name)
        counts[(key + ("reads" if ro else "calls"), m % 1440)] += 1
        if code is not None:
            counts[(key + "err:" + code, m % 1440)] += 1
    return sorted("%s %d %d" % (k, f, n) for (k, f), n in counts.items())


def dumps(o, **kw):
    return json.dumps(o, ensure_ascii=False, **kw)


def epoch(r):
    return int(dt.datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")).timestamp())


def lookup_event(r):
    """One element of `aws cloudtrail lookup-events` output."""
    return {"EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": str(r["readOnly"]).lower(),
            "AccessKeyId": "ASIA%016d" % 7, "EventTime": float(epoch(r)), "EventSource": r["eventSource"],
            "Username": r["userIdentity"]["userName"], "Resources": [],
            "CloudTrailEvent": json.dumps(r)}


def eventbridge(r):
    return {"version": "0", "id": r["eventID"], "detail-type": "AWS API Call via CloudTrail",
            "source": "aws." + r["eventSource"].split(".")[0], "account": r["recipientAccountId"],
            "time": dt.datetime.fromtimestamp(epoch(r), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": r["awsRegion"], "resources": [], "detail": r}


def cw_message(recs, k):
    return {"messageType": "DATA_MESSAGE", "owner": recs[0]["recipientAccountId"],
            "logGroup": "aws-cloudtrail-logs-%s" % recs[0]["recipientAccountId"],
            "logStream": "%s_CloudTrail_%s_%d" % (recs[0]["recipientAccountId"], recs[0]["awsRegion"], k),
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": "3%055d" % (k * 1000 + i), "timestamp": epoch(r) * 1000,
                           "message": json.dumps(r, ensure_ascii=(i % 2 == 0))} for i, r in enumerate(recs)]}


CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
           "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1727776800000,
                                                     "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}


def main():
    out = sys.argv[1]
    rng = random.Random(10)
    shapes = {}

    def shape(name, n, writer, files=1):
        acct = "%012d" % (111100000000 + len(shapes))
        recs = make_records(rng, n, acct, rng.choice(["us-east-1", "eu-west-1", "ap-northeast-1"]))
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        writer(d, recs)
        shapes[name] = recs

    def w(d, fname, data):
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(os.path.join(d, fname), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)

    shape("records", 40, lambda d, rs: w(d, "111_CloudTrail_us-east-1_x.json.gz",
                                         gzip.compress(dumps({"Records": rs}).encode())))
    shape("ndjson", 40, lambda d, rs: w(d, "events.ndjson", "".join(dumps(r) + "\n" for r in rs)))
    # objects pretty-printed one after another, and then run together
    shape("pretty", 40, lambda d, rs: w(d, "export.json", "\n".join(dumps(r, indent=2) for r in rs[:20]) + "\n" +
                                        "".join(json.dumps(r) for r in rs[20:])))
    shape("array", 40, lambda d, rs: w(d, "export.json", dumps(rs, indent=4) + "\n"))
    shape("array_lines", 45, lambda d, rs: w(d, "batches.jsonl", "".join(dumps(rs[i:i + 9]) + "\n"
                                                                         for i in range(0, len(rs), 9))))
    shape("lookup", 40, lambda d, rs: w(d, "lookup.json", json.dumps(
        {"Events": [lookup_event(r) for r in rs[::-1]], "NextToken": "eyJ0b2tlbiI6IDF9"}, indent=4) + "\n"))
    shape("lookup_lines", 40, lambda d, rs: w(d, "lookup.jsonl", "".join(
        json.dumps(lookup_event(r)) + "\n" for r in rs[::-1])))
    shape("eventbridge", 40, lambda d, rs: w(d, "eventbridge.json", "".join(
        dumps(eventbridge(r)) + "\n" for r in rs)))
    # a Firehose object: gzip members back to back, one subscription
    # message each, a control message among them; its name has no suffix
    def firehose(d, rs):
        members = [gzip.compress(json.dumps(cw_message(rs[i:i + 12], i)).encode()) for i in range(0, len(rs), 12)]
        members.insert(1, gzip.compress(json.dumps(CONTROL).encode()))
        w(d, "cloudtrail-to-s3-1-2024-10-01-10-05-03-5c2f1a9e-0d7b-4a7e-9a3e-0f3b1d2c4e5f", b"".join(members))
    shape("cwlogs", 48, firehose)

    for name, recs in shapes.items():
        with open(os.path.join(out, name + ".expected"), "w") as f:
            f.write("".join(line + "\n" for line in expected(recs)))
        with open(os.path.join(out, name + ".n"), "w") as f:
            f.write("%d %d\n" % (sum(classify(r) is not None for r in recs),
                                 sum(r["eventCategory"] == "Data" for r in recs)))
    with open(os.path.join(out, "shapes"), "w") as f:
        f.write("\n".join(shapes) + "\n")


if __name__ == "__main__":
    main()
