#!/usr/bin/env python3
"""sqs_notes.py - the SQS message bodies announcing a corpus's log files as
they would come, in delivery order (deliver.py's), one body a line:

  sqs_notes.py CORPUS BUCKET PREFIX [extra]

Shapes in turn: an S3 event notification, the same through SNS, CloudTrail's
own notification through SNS (two keys in one message), an EventBridge
Object Created event, CloudTrail's notification raw. Keys are PREFIX + the
path under CORPUS (S3 event keys URL-encoded, as S3 writes them). With
"extra", also: S3's test event first, a notification of each of a few digest
files and of an Insight file (passed over by key), a body that is no
notification, and one naming a key that is not in the bucket.
"""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliver import delivery_order  # noqa: E402


def s3_event(bucket, key, size):
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                         "awsRegion": "us-east-1", "eventTime": "2026-01-01T00:00:00.000Z",
                         "eventName": "ObjectCreated:Put",
                         "s3": {"s3SchemaVersion": "1.0", "configurationId": "trail",
                                "bucket": {"name": bucket, "arn": "arn:aws:s3:::" + bucket},
                                "object": {"key": urllib.parse.quote_plus(key, safe="/"),
                                           "size": size, "sequencer": "0"}}}]}


def sns(inner):
    return {"Type": "Notification", "MessageId": "00000000-0000-0000-0000-000000000000",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
            "Subject": "Amazon S3 Notification", "Message": json.dumps(inner),
            "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "1"}


def eventbridge(bucket, key, size):
    return {"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::" + bucket],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": key, "size": size, "sequencer": "0"},
                       "request-id": "r", "requester": "123456789012", "reason": "PutObject"}}


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    corpus, bucket, prefix = sys.argv[1:4]
    extra = len(sys.argv) > 4
    files = delivery_order(corpus)
    out = []
    if extra:
        out.append({"Service": "Amazon S3", "Event": "s3:TestEvent",
                    "Time": "2026-01-01T00:00:00.000Z", "Bucket": bucket})
    i = 0
    turn = 0
    while i < len(files):
        key = prefix + files[i]
        size = os.path.getsize(os.path.join(corpus, files[i]))
        shape = turn % 5
        turn += 1
        if shape == 0:
            out.append(s3_event(bucket, key, size))
        elif shape == 1:
            out.append(sns(s3_event(bucket, key, size)))
        elif shape == 2:
            keys = [prefix + f for f in files[i:i + 2]]
            out.append(sns({"s3Bucket": bucket, "s3ObjectKey": keys}))
            i += len(keys)
            continue
        elif shape == 3:
            out.append(eventbridge(bucket, key, size))
        else:
            out.append({"s3Bucket": bucket, "s3ObjectKey": [key]})
        i += 1
    if extra:
        digests = []
        for root, _, names in os.walk(os.path.join(corpus, "AWSLogs")):
            digests += [os.path.relpath(os.path.join(root, n), corpus) for n in names
                        if "CloudTrail-Digest" in root]
        for d in sorted(digests)[:3]:
            out.append(s3_event(bucket, prefix + d, 10))
        insight = files[0].replace("/CloudTrail/", "/CloudTrail-Insight/")
        out.append({"s3Bucket": bucket, "s3ObjectKey": [prefix + insight]})
        out.append("hello, this is not a notification")
        out.append(s3_event(bucket, prefix + files[0].replace(".json.gz", "_gone.json.gz"), 10))
    for m in out:
        print(m if isinstance(m, str) else json.dumps(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
