#!/usr/bin/env python3
"""order_ndjson.py - a generated corpus's records as NDJSON files in three orders.

order_ndjson.py LOGS OUTDIR [--future DAY]: reads every CloudTrail log file
under LOGS (gzip, {"Records": [...]}) and writes OUTDIR/time.ndjson (sorted
by eventTime, ties in file-name and record order), OUTDIR/rev.ndjson (the
same, reversed) and OUTDIR/shuf.ndjson (shuffled with a fixed seed). With
--future DAY (YYYY-MM-DD) it also writes OUTDIR/day.ndjson (the records of
that day, in time order) and OUTDIR/dayf.ndjson (the same with one copy of
its middle record dated 9999-12-31T23:59:59Z inserted after it), and prints
the byte offset of that record in dayf.ndjson.
"""
import gzip
import json
import os
import random
import sys


def main():
    logs, out = sys.argv[1], sys.argv[2]
    future = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--future" else None
    recs = []
    names = []
    for root, _, files in os.walk(logs):
        for f in files:
            if f.endswith(".json.gz") and "CloudTrail-Digest" not in root:
                names.append(os.path.join(root, f))
    for name in sorted(names):
        with gzip.open(name) as fh:
            for r in json.load(fh)["Records"]:
                recs.append((r["eventTime"], len(recs), json.dumps(r, separators=(",", ":"))))
    recs.sort()
    lines = [x[2] + "\n" for x in recs]

    def write(name, ls):
        with open(os.path.join(out, name), "w") as fh:
            fh.writelines(ls)

    write("time.ndjson", lines)
    write("rev.ndjson", lines[::-1])
    shuf = list(lines)
    random.Random(7).shuffle(shuf)
    write("shuf.ndjson", shuf)
    if future:
        day = [x[2] + "\n" for x in recs if x[0].startswith(future)]
        write("day.ndjson", day)
        mid = len(day) // 2
        r = json.loads(day[mid])
        r["eventTime"] = "9999-12-31T23:59:59Z"
        r["eventID"] = "99999999-9999-4999-8999-999999999999"
        off = sum(len(x.encode()) for x in day[: mid + 1])
        write("dayf.ndjson", day[: mid + 1] + [json.dumps(r, separators=(",", ":")) + "\n"] + day[mid + 1:])
        print(off)


main()
