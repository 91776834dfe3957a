#!/usr/bin/env python3
"""early_check.py - a stream with early Starts against the backfill of the
same records (docs/DESIGN.md, "Early Starts").

  early_check.py REF STREAM LABELS LATENESS

REF: the backfill's insights; STREAM: the stream's (several runs' outputs
concatenated: an event written twice, byte for byte, counts once); LABELS:
trailsight-gen's labels.json. Checks:
  - the same events by their defined fields: state, account, Region,
    eventSource, eventName, insightType, errorCode, sharedEventID, eventID,
    eventTime (so the same Start minute and the same End);
  - one Start and at most one End per sharedEventID in the stream;
  - every labelled anomaly has a Start in the stream, and every stream
    Start is early, decided (trailsightContext.decisionEventTime) before
    its anomaly's onset + LATENESS minutes, while the backfill's Start of
    it is decided at least LATENESS minutes after its eventTime.
Prints what it found; exit 0 when every check holds, 1 otherwise.
"""
import json
import sys
from datetime import datetime, timezone

FIELDS = ("eventTime", "recipientAccountId", "awsRegion", "sharedEventID", "eventID")
DETAIL = ("state", "eventSource", "eventName", "insightType", "errorCode")


def secs(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()


def load(path):
    seen, out = set(), []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and line not in seen:
                seen.add(line)
                out.append(json.loads(line))
    return out


def key(e):
    d = e["insightDetails"]
    return tuple(e[k] for k in FIELDS) + tuple(d.get(k) for k in DETAIL)


def main(ref_path, stream_path, labels_path, lateness):
    lateness = int(lateness)
    bad = []
    ref, got = load(ref_path), load(stream_path)
    rk, gk = sorted(map(key, ref)), sorted(map(key, got))
    if rk != gk:
        bad.append("defined fields differ: only in backfill %s; only in stream %s"
                   % (sorted(set(rk) - set(gk)), sorted(set(gk) - set(rk))))
    per = {}
    for e in got:
        st = e["insightDetails"]["state"]
        per.setdefault(e["sharedEventID"], []).append(st)
    for sid, states in per.items():
        if states.count("Start") != 1 or states.count("End") > 1:
            bad.append("%s: %s" % (sid, states))
    with open(labels_path) as f:
        labels = json.load(f)["anomalies"]
    ref_start = {e["sharedEventID"]: e for e in ref if e["insightDetails"]["state"] == "Start"}
    early = 0
    for an in labels:
        ls, le = secs(an["start"]), secs(an["end"])
        hit = None
        for e in got:
            d = e["insightDetails"]
            if (d["state"] == "Start" and e["recipientAccountId"] == an["account"]
                    and e["awsRegion"] == an["region"] and d["eventSource"] == an["eventSource"]
                    and d["eventName"] == an["eventName"] and d["insightType"] == an["insightType"]
                    and d.get("errorCode") == an.get("errorCode")
                    and ls - 300 <= secs(e["eventTime"]) < le + 300):
                hit = e
        if hit is None:
            bad.append("label %s (%s at %s): no Start in the stream" % (an.get("id"), an["kind"], an["start"]))
            continue
        ctx = hit["insightDetails"]["trailsightContext"]
        dec = secs(ctx["decisionEventTime"])
        print("label %s %s onset %s: Start %s decided %s (%.1f min after onset)%s"
              % (an.get("id"), an["kind"], an["start"], hit["eventTime"], ctx["decisionEventTime"],
                 (dec - ls) / 60, ", early" if ctx.get("early") else ""))
        if not ctx.get("early"):
            bad.append("%s: not early" % hit["sharedEventID"])
        if not dec < ls + lateness * 60:
            bad.append("%s: decided %s, not before onset + %d min" % (hit["sharedEventID"],
                                                                     ctx["decisionEventTime"], lateness))
        early += 1
        r = ref_start.get(hit["sharedEventID"])
        if r is not None:
            rd = secs(r["insightDetails"]["trailsightContext"]["decisionEventTime"])
            if rd < secs(r["eventTime"]) + lateness * 60 or r["insightDetails"]["trailsightContext"].get("early"):
                bad.append("%s: the backfill decided it at %s" % (hit["sharedEventID"], rd))
    for b in bad:
        print("FAIL: " + b)
    print("%d events in the backfill, %d in the stream; %d early Starts before onset + %d min"
          % (len(ref), len(got), early, lateness))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
