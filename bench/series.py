#!/usr/bin/env python3
"""series.py - per-minute counts of one API series in a trailsight-gen corpus,
to see why a label was missed or a Start fired.

  bench/series.py CORPUS_DIR --label ID [--before MIN] [--after MIN] [--days-back N]
  bench/series.py CORPUS_DIR ACCOUNT REGION EVENTSOURCE EVENTNAME --from TIME --to TIME
                  [--days-back N]

CORPUS_DIR holds AWSLogs/ and labels.json. With --label, the series and the
window (the label's start - --before to its end + --after, default 30 and
15 minutes) come from that anomaly of labels.json. TIME is
YYYY-MM-DDTHH:MM (UTC). Prints, per minute: write calls (the call rate
trailsight counts), read-only calls, errors per errorCode, and with
--days-back N the write calls in the same minute 1..N days earlier. Reads
only the log files delivered in or just after the window (and those days),
so it is quick. Standard library only.
"""
import argparse
import calendar
import gzip
import json
import os
import signal
import sys
import time
from collections import defaultdict

READ_PREFIXES = ("Get", "Describe", "List", "Head", "Lookup", "Search", "Scan", "Query",
                 "BatchGet", "Select")


def minute_of(text):
    t = text.replace("Z", "")
    return calendar.timegm((int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]),
                            int(t[14:16]), 0, 0, 0, 0)) // 60


def show(m):
    g = time.gmtime(m * 60)
    return "%04d-%02d-%02dT%02d:%02d" % (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min)


def is_read(rec):
    ro = rec.get("readOnly")
    if isinstance(ro, bool):
        return ro
    if isinstance(ro, str):
        return ro == "true"
    name = rec.get("eventName", "")
    return any(name.startswith(p) and len(name) > len(p) and name[len(p)].isupper()
               for p in READ_PREFIXES)


def files_between(root, account, region, lo, hi):
    """Log files of the partition delivered in [lo, hi] (minutes)."""
    base = os.path.join(root, "AWSLogs", account, "CloudTrail", region)
    day = lo - lo % 1440
    while day <= hi:
        g = time.gmtime(day * 60)
        d = os.path.join(base, "%04d" % g.tm_year, "%02d" % g.tm_mon, "%02d" % g.tm_mday)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                # <acct>_CloudTrail_<region>_YYYYMMDDTHHMMZ_<rand>.json.gz
                parts = f.split("_")
                if len(parts) < 5:
                    continue
                s = parts[-2]
                try:
                    m = minute_of("%s-%s-%sT%s:%s" % (s[0:4], s[4:6], s[6:8], s[9:11], s[11:13]))
                except ValueError:
                    continue
                if lo <= m <= hi:
                    yield os.path.join(d, f)
        day += 1440


def count(root, account, region, source, name, windows):
    """counts[minute] = {'calls': n, 'reads': n, 'err:CODE': n} over the windows."""
    counts = defaultdict(lambda: defaultdict(int))
    for lo, hi in windows:
        for path in files_between(root, account, region, lo, hi + 25):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                doc = json.load(f)
            for r in doc.get("Records", []):
                if r.get("eventSource") != source or r.get("eventName") != name:
                    continue
                m = minute_of(r["eventTime"][:16])
                if not lo <= m <= hi:
                    continue
                c = counts[m]
                c["reads" if is_read(r) else "calls"] += 1
                if isinstance(r.get("errorCode"), str):
                    c["err:" + r["errorCode"]] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("corpus")
    ap.add_argument("series", nargs="*", metavar="ACCOUNT REGION EVENTSOURCE EVENTNAME")
    ap.add_argument("--label", type=int)
    ap.add_argument("--from", dest="lo")
    ap.add_argument("--to", dest="hi")
    ap.add_argument("--before", type=int, default=30)
    ap.add_argument("--after", type=int, default=15)
    ap.add_argument("--days-back", type=int, default=0)
    a = ap.parse_args()
    if a.label is not None:
        try:
            with open(os.path.join(a.corpus, "labels.json")) as f:
                labels = json.load(f)
        except (OSError, ValueError) as e:
            ap.error("cannot read %s/labels.json: %s" % (a.corpus, e))
        hits = [x for x in labels.get("anomalies", []) if x.get("id") == a.label]
        if not hits:
            ap.error("no anomaly with id %d in %s/labels.json" % (a.label, a.corpus))
        lab = hits[0]
        print("label %d: %s" % (a.label, json.dumps(lab)))
        series = (lab["account"], lab["region"], lab["eventSource"], lab["eventName"])
        lo = minute_of(lab.get("rampBegin") or lab["start"]) - a.before
        hi = minute_of(lab["end"]) + a.after
        start, end = minute_of(lab["start"]), minute_of(lab["end"])
    else:
        if len(a.series) != 4 or not a.lo or not a.hi:
            ap.error("give --label ID, or ACCOUNT REGION EVENTSOURCE EVENTNAME --from --to")
        series = tuple(a.series)
        try:
            lo, hi = minute_of(a.lo), minute_of(a.hi)
        except (ValueError, IndexError):
            ap.error("times are YYYY-MM-DDTHH:MM")
        start = end = None
    windows = [(lo - 1440 * d, hi - 1440 * d) for d in range(a.days_back + 1)]
    counts = count(a.corpus, *series, windows)
    codes = sorted({k for c in counts.values() for k in c if k.startswith("err:")})
    head = ["minute", "calls", "reads"] + codes + ["d-%d" % d for d in range(1, a.days_back + 1)]
    print("  ".join(head))
    for m in range(lo, hi + 1):
        c = counts.get(m, {})
        mark = ""
        if start is not None and start <= m < end:
            mark = "  *"
        row = [show(m), "%5d" % c.get("calls", 0), "%5d" % c.get("reads", 0)]
        row += ["%*d" % (len(k), c.get(k, 0)) for k in codes]
        row += ["%3d" % counts.get(m - 1440 * d, {}).get("calls", 0)
                for d in range(1, a.days_back + 1)]
        print("  ".join(row) + mark)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under | head
    sys.exit(main())
