#!/usr/bin/env python3
"""rules_gen.py OUT.ndjson SUMMARY.json - a small corpus with known callers
for tests/cli/rules.sh: one account and Region, 4 days (2026-01-05 to
2026-01-08) of write calls by users at about 1 a minute per API, and on the
last day:
  - 12:00-12:09 ec2 CreateTags: 60 extra calls a minute by an AWS service
    (type AWSService, invokedBy autoscaling.amazonaws.com);
  - 12:00-12:09 ec2 DeleteTags: the same 60 a minute by the IAM user bob;
  - 12:00-12:09 iam AttachRolePolicy and DetachRolePolicy: 15 extra a
    minute each by the IAM user carol (a mild burst);
  - 14:00-14:04 and 14:24-14:28 ec2 RunInstances: 60 extra a minute by
    the IAM user dave, twice (flapping).
The summary counts the records of each caller kind."""
import json
import random
import sys

ACCT = "111111111111"
REGION = "us-east-1"
DAY0 = 20458  # 2026-01-05, days since the epoch
APIS = [("ec2.amazonaws.com", "CreateTags"), ("ec2.amazonaws.com", "DeleteTags"),
        ("iam.amazonaws.com", "AttachRolePolicy"), ("iam.amazonaws.com", "DetachRolePolicy"),
        ("ec2.amazonaws.com", "RunInstances")]


def iso(minute, sec):
    import datetime
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(minutes=minute, seconds=sec)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(name):
    return {"type": "IAMUser", "principalId": "AIDA" + name.upper(),
            "arn": "arn:aws:iam::%s:user/%s" % (ACCT, name), "accountId": ACCT,
            "userName": name}


SERVICE = {"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"}


def record(minute, sec, api, ident, agent, n):
    return {"eventVersion": "1.09", "userIdentity": ident, "eventTime": iso(minute, sec),
            "eventSource": api[0], "eventName": api[1], "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.7", "userAgent": agent,
            "requestID": "req-%d-%d" % (minute, n), "eventID": "ev-%d-%d" % (minute, n),
            "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
            "recipientAccountId": ACCT, "eventCategory": "Management"}


def poisson(rng, lam):
    import math
    l, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= l:
            return k
        k += 1


def main():
    out, summary = sys.argv[1], sys.argv[2]
    rng = random.Random(15)
    counts = {"users": 0, "service": 0, "bob": 0, "carol": 0, "dave": 0}
    last = DAY0 + 3
    bursts = {}  # (api index, minute) -> (identity, agent, key, n)
    for m in range(10):
        t = last * 1440 + 12 * 60 + m
        bursts[(0, t)] = (SERVICE, "autoscaling.amazonaws.com", "service", 60)
        bursts[(1, t)] = (user("bob"), "aws-cli/2.15.0", "bob", 60)
        bursts[(2, t)] = (user("carol"), "Boto3/1.34.0", "carol", 15)
        bursts[(3, t)] = (user("carol"), "Boto3/1.34.0", "carol", 15)
    for m in list(range(5)) + list(range(24, 29)):
        bursts[(4, last * 1440 + 14 * 60 + m)] = (user("dave"), "terraform/1.7", "dave", 60)
    n = 0
    with open(out, "w") as f:
        for minute in range(DAY0 * 1440, (last + 1) * 1440):
            for i, api in enumerate(APIS):
                for _ in range(poisson(rng, 1.0)):
                    who = "alice" if rng.random() < 0.7 else "erin"
                    f.write(json.dumps(record(minute, rng.randrange(60), api, user(who),
                                              "aws-cli/2.13.0", n)) + "\n")
                    counts["users"] += 1
                    n += 1
                b = bursts.get((i, minute))
                if b:
                    for k in range(b[3]):
                        f.write(json.dumps(record(minute, k % 60, api, b[0], b[1], n)) + "\n")
                        counts[b[2]] += 1
                        n += 1
    counts["records"] = n
    with open(summary, "w") as f:
        json.dump(counts, f)


main()
