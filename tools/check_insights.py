#!/usr/bin/env python3
"""check_insights.py - checks trailsight's insight events against the raw
CloudTrail records they came from, independently of the C code.

  tools/check_insights.py [--labels FILE] [--quiet] INSIGHTS.ndjson PATH...

PATH: log files or folders (walked like trailsight does). For every event it
checks the field list and key order of the CloudTrail Insights format, and
for every Start/End pair (by sharedEventID): End.eventTime - Start.eventTime
= End insightDuration, baselineDuration = 10080 + minutes since midnight of
the Start, baseline.average and insight.average equal to the counts
recomputed from the records, and each attribution's top 5 (values and
averages, ranked by count then by value) recomputed from the records over
the insight window and the baseline window of the Start and of the End. With --labels (the generator's labels.json) it
also reports which injected anomalies were found. Exit 0 when every check
holds; prints "N passed, M failed".
"""
import argparse
import datetime as dt
import gzip
import json
import re
import os
import sys
from collections import defaultdict

READ_PREFIXES = ("Get", "Describe", "List", "Head", "Lookup", "Search", "Scan",
                 "Query", "BatchGet", "Select")
TOP_KEYS = ["eventVersion", "eventTime", "awsRegion", "eventID", "eventType",
            "recipientAccountId", "sharedEventID", "insightDetails", "eventCategory"]


def is_read_name(name):
    for p in READ_PREFIXES:
        if name.startswith(p) and len(name) > len(p) and name[len(p)].isupper():
            return True
    return False


def log_files(paths):
    ok = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs
                                 if d not in ("CloudTrail-Digest", "CloudTrail-Insight"))
                for f in sorted(files):
                    if f.endswith(ok) and "CloudTrail-Digest" not in f and "CloudTrail-Insight" not in f:
                        yield os.path.join(root, f)
        else:
            yield p


def records(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="strict") as f:
        text = f.read()
    text = text.strip()
    if not text:
        return
    if text.startswith('{"Records"') or text.startswith('{\n    "Records"'):
        try:
            for r in json.loads(text).get("Records", []):
                yield r
            return
        except ValueError:
            pass
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                yield json.loads(line)
            except ValueError:
                continue


TIME_RE = re.compile(r"^(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(\.\d{1,9})?([Zz]|([+-])(\d\d):(\d\d))$")


def minute_of(t):
    """The minute (epoch minutes, UTC) of an RFC 3339 eventTime, as
    trailsight reads it: fractions dropped, an offset applied."""
    m = TIME_RE.match(t)
    if not m:
        raise ValueError("bad eventTime %r" % t)
    d = dt.datetime.strptime(m.group(1) + "T" + m.group(2), "%Y-%m-%dT%H:%M:%S")
    sec = int(d.replace(tzinfo=dt.timezone.utc).timestamp())
    if m.group(5):
        off = int(m.group(6)) * 3600 + int(m.group(7)) * 60
        if int(m.group(6)) > 23 or int(m.group(7)) > 59:
            raise ValueError("bad offset %r" % t)
        sec += -off if m.group(5) == "+" else off
    if sec < 0:
        raise ValueError("before 1970 %r" % t)
    return sec // 60


def classify(r):
    """What trailsight counts of one record, as (acct, region, source, name,
    minute, read_only, errorCode or None), or None when it counts nothing
    (not an object, no or bad eventTime, an insight or data event, no
    account/region/source/name)."""
    if not isinstance(r, dict):
        return None
    t = r.get("eventTime")
    if not isinstance(t, str):
        return None
    try:
        m = minute_of(t)
    except ValueError:
        return None
    if r.get("eventType") == "AwsCloudTrailInsight":
        return None
    cat = r.get("eventCategory")
    if cat is not None and cat != "Management":
        return None
    if cat is None and r.get("managementEvent") is False:
        return None
    acct, region = r.get("recipientAccountId"), r.get("awsRegion")
    src, name = r.get("eventSource"), r.get("eventName")
    if not acct or not region or not isinstance(src, str) or not isinstance(name, str):
        return None
    ro = r.get("readOnly")
    if isinstance(ro, str):
        ro = ro == "true"
    if ro is None:
        ro = is_read_name(name)
    code = r.get("errorCode")
    return acct, region, src, name, m, bool(ro), code if isinstance(code, str) else None


def count_records(paths):
    """counts[(acct, region, source, name, type, code)][minute] = n"""
    counts = defaultdict(lambda: defaultdict(int))
    for path in log_files(paths):
        for r in records(path):
            c = classify(r)
            if c is None:
                continue
            acct, region, src, name, m, ro, code = c
            if not ro:
                counts[(acct, region, src, name, "ApiCallRateInsight", None)][m] += 1
            if code is not None:
                counts[(acct, region, src, name, "ApiErrorRateInsight", code)][m] += 1
    return counts


def count_attributions(paths, keys):
    """attrs[key][minute][(attribute, value)] = n, for the series in keys:
    the values trailsight attributes (userIdentity.arn, userAgent, and on
    the call rate errorCode, "null" for none) of the records it counts in
    that series."""
    attrs = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for path in log_files(paths):
        for r in records(path):
            c = classify(r)
            if c is None:
                continue
            acct, region, src, name, m, ro, code = c
            ui = r.get("userIdentity")
            arn = ui.get("arn") if isinstance(ui, dict) else None
            agent = r.get("userAgent")
            vals = []
            if isinstance(arn, str):
                vals.append(("userIdentityArn", arn))
            if isinstance(agent, str):
                vals.append(("userAgent", agent))
            k = (acct, region, src, name, "ApiCallRateInsight", None)
            if not ro and k in keys:
                cell = attrs[k][m]
                for v in vals + [("errorCode", code if code is not None else "null")]:
                    cell[v] += 1
            k = (acct, region, src, name, "ApiErrorRateInsight", code)
            if code is not None and k in keys:
                cell = attrs[k][m]
                for v in vals:
                    cell[v] += 1
    return attrs


def top5(series_attrs, attribute, m0, m1):
    """The top 5 (value, average) of attribute over minutes [m0, m1): by
    count, then by the value's bytes, as trailsight ranks them."""
    n = defaultdict(int)
    for m, cell in series_attrs.items():
        if m0 <= m < m1:
            for (a, v), c in cell.items():
                if a == attribute:
                    n[v] += c
    ranked = sorted(n.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:5]
    return [(v, avg(c, m1 - m0)) for v, c in ranked]


def same_top(got, want):
    return (len(got) == len(want) and
            all(g.get("value") == v and isinstance(g.get("average"), (int, float))
                and abs(g["average"] - a) < 1e-9 for g, (v, a) in zip(got, want)))


def avg(count, minutes):
    return round(count / minutes, 10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("insights")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()

    passed = failed = 0
    problems = []

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            problems.append(what)

    events = []
    with open(a.insights) as f:
        for line in f:
            if line.strip():
                events.append(json.loads(line))
    counts = count_records(a.paths)

    ids = set()
    pairs = defaultdict(dict)
    for e in events:
        check(list(e.keys()) == TOP_KEYS, "key order %s" % list(e.keys()))
        check(e.get("eventVersion") == "1.09" and e.get("eventType") == "AwsCloudTrailInsight"
              and e.get("eventCategory") == "Insight", "constant fields")
        check(e["eventID"] not in ids, "duplicate eventID %s" % e["eventID"])
        ids.add(e["eventID"])
        d = e["insightDetails"]
        keys = ["state", "eventSource", "eventName", "insightType"]
        if d["insightType"] == "ApiErrorRateInsight":
            keys.append("errorCode")
        keys += ["sourceEventCategory", "insightContext"]
        if "trailsightContext" in d:
            keys.append("trailsightContext")
        check(list(d.keys()) == keys, "insightDetails keys %s" % list(d.keys()))
        st = d["insightContext"]["statistics"]
        check(list(st.keys()) == ["baseline", "insight", "insightDuration", "baselineDuration"],
              "statistics keys")
        for at in d["insightContext"]["attributions"]:
            for side in ("insight", "baseline"):
                vals = [v["average"] for v in at[side]]
                check(len(vals) <= 5 and vals == sorted(vals, reverse=True),
                      "attribution %s %s sorted, at most 5" % (at["attribute"], side))
        check(d["state"] not in pairs[e["sharedEventID"]], "one %s per sharedEventID" % d["state"])
        pairs[e["sharedEventID"]][d["state"]] = e

    def series_key(e):
        d = e["insightDetails"]
        return (e["recipientAccountId"], e["awsRegion"], d["eventSource"], d["eventName"],
                d["insightType"], d.get("errorCode"))
    attrs = count_attributions(a.paths, {series_key(e) for e in events})

    def check_attributions(sid, e, t0, dur, base0):
        """e's attributions: the top 5 of each kind recomputed over the
        insight window [t0, t0 + dur) and the baseline window [base0, t0)."""
        d = e["insightDetails"]
        sa = attrs.get(series_key(e), {})
        kinds = ["userIdentityArn", "userAgent"]
        if d["insightType"] == "ApiCallRateInsight":
            kinds.append("errorCode")
        ats = d["insightContext"]["attributions"]
        check([at["attribute"] for at in ats] == kinds,
              "%s %s attributions %s" % (sid, d["state"], [at["attribute"] for at in ats]))
        for at in ats:
            for side, m0, m1 in (("insight", t0, t0 + dur), ("baseline", base0, t0)):
                want = top5(sa, at["attribute"], m0, m1)
                check(same_top(at[side], want),
                      "%s %s %s %s top 5 %s != recomputed %s" % (sid, d["state"], at["attribute"], side,
                                                                [(g.get("value"), g.get("average")) for g in at[side]], want))

    for sid, p in pairs.items():
        s, en = p.get("Start"), p.get("End")
        check(s is not None, "End without Start %s" % sid)
        if s is None:
            continue
        d = s["insightDetails"]
        st = d["insightContext"]["statistics"]
        t0 = minute_of(s["eventTime"])
        check(s["eventTime"].endswith(":00Z"), "Start on a minute")
        since_midnight = t0 % 1440
        check(st["baselineDuration"] == 10080 + since_midnight,
              "%s baselineDuration %s != %s" % (sid, st["baselineDuration"], 10080 + since_midnight))
        key = (s["recipientAccountId"], s["awsRegion"], d["eventSource"], d["eventName"],
               d["insightType"], d.get("errorCode"))
        series = counts.get(key, {})
        b0 = t0 - since_midnight - 10080
        base = sum(n for m, n in series.items() if b0 <= m < t0)
        check(abs(st["baseline"]["average"] - avg(base, st["baselineDuration"])) < 1e-9,
              "%s baseline.average %s != recomputed %s" % (sid, st["baseline"]["average"],
                                                           avg(base, st["baselineDuration"])))
        dur = st["insightDuration"]
        ins = sum(n for m, n in series.items() if t0 <= m < t0 + dur)
        check(abs(st["insight"]["average"] - avg(ins, dur)) < 1e-9,
              "%s Start insight.average %s != recomputed %s" % (sid, st["insight"]["average"], avg(ins, dur)))
        check_attributions(sid, s, t0, dur, b0)
        if en is None:
            continue
        est = en["insightDetails"]["insightContext"]["statistics"]
        edur = est["insightDuration"]
        check(minute_of(en["eventTime"]) - t0 == edur,
              "%s End.eventTime - Start.eventTime != insightDuration" % sid)
        check(est["baselineDuration"] == st["baselineDuration"]
              and est["baseline"]["average"] == st["baseline"]["average"],
              "%s End repeats the Start's baseline" % sid)
        eins = sum(n for m, n in series.items() if t0 <= m < t0 + edur)
        check(abs(est["insight"]["average"] - avg(eins, edur)) < 1e-9,
              "%s End insight.average %s != recomputed %s" % (sid, est["insight"]["average"], avg(eins, edur)))
        check_attributions(sid, en, t0, edur, b0)

    if a.labels:
        with open(a.labels) as f:
            labels = json.load(f)
        found = 0
        for an in labels.get("anomalies", []):
            ls, le = minute_of(an["start"]), minute_of(an["end"])
            hit = None
            for e in events:
                d = e["insightDetails"]
                if (d["state"] == "Start" and e["recipientAccountId"] == an["account"]
                        and e["awsRegion"] == an["region"] and d["eventSource"] == an["eventSource"]
                        and d["eventName"] == an["eventName"] and d["insightType"] == an["insightType"]
                        and d.get("errorCode") == an.get("errorCode")
                        and ls - 5 <= minute_of(e["eventTime"]) < le + 5):
                    hit = e
                    break
            found += hit is not None
            if not a.quiet:
                print("label %s %s %s %s: %s" % (an.get("id"), an["kind"], an["eventName"], an["start"],
                      "found, delay %d min" % (minute_of(hit["eventTime"]) - ls) if hit else "MISSED"))
        starts = sum(1 for e in events if e["insightDetails"]["state"] == "Start")
        print("labels: %d of %d anomalies found; %d Start events in all"
              % (found, len(labels.get("anomalies", [])), starts))

    for p in problems[:30]:
        print("FAIL: " + p)
    print("pairs: %d, events: %d" % (len(pairs), len(events)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
