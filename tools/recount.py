#!/usr/bin/env python3
"""recount.py - the per-minute counts trailsight should hold in Redis for a
set of CloudTrail logs, recomputed from the records independently of the C
code, as lines "KEY FIELD COUNT" in the Redis key scheme of the README:

  tools/recount.py PATH... | sort > expected

KEY is ts:{ACCT:REGION}:c:YYYYMMDD:m:SOURCE:NAME:METRIC (METRIC calls,
reads or err:CODE), FIELD the minute of the day. Management events only,
read-only calls under "reads" (trailsight's default options). Compare with
a dump of the store, e.g. tests/cli/lib.sh's redis_dump_counts.
"""
import datetime as dt
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_insights import classify, log_files, records  # noqa: E402


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 else 1
    counts = defaultdict(int)
    for path in log_files(sys.argv[1:]):
        for r in records(path):
            c = classify(r)
            if c is None:
                continue
            acct, region, src, name, m, ro, code = c
            day = dt.datetime.fromtimestamp(m * 60, dt.timezone.utc).strftime("%Y%m%d")
            base = "ts:{%s:%s}:c:%s:m:%s:%s:" % (acct, region, day, src, name)
            field = m % 1440
            counts[(base + ("reads" if ro else "calls"), field)] += 1
            if code is not None:
                counts[(base + "err:" + code, field)] += 1
    out = sys.stdout
    for (key, field), n in counts.items():
        out.write("%s %d %d\n" % (key, field, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
