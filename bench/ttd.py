#!/usr/bin/env python3
"""ttd.py - time to detect, from a stream's output alone.

  ttd.py deliver CORPUS > records.ndjson
      the records of CORPUS/AWSLogs (trailsight-gen output) as NDJSON, file
      by file in delivery order (the delivery time in each file's name, as
      tests/cli/deliver.py orders them), each file's records as written
  ttd.py score LABELS INSIGHTS.ndjson [--slack MIN] [--json FILE]
      for each labelled anomaly, the first Start of its series and type
      dated within SLACK minutes of the label (as bench/score.py matches);
      its detection lag in data minutes: trailsightContext.decisionEventTime
      minus the label's true onset (its start). Prints per anomaly kind
      the anomalies, those found, the median and 90th percentile (nearest
      rank) of the lag, and how many Starts were early; exit 0.
      --floor BACKFILL.ndjson: also the lag floor the detector's own rule
      leaves, from a backfill of the same files (its Starts made as minutes
      close, decided at the minute's close plus --lateness, default 20,
      plus one): for each anomaly that backfill matches, the end of the
      minute whose close made its Start, minus the onset. A stream that
      judged each minute the moment its last record was read would have
      that lag; one that makes only Starts the closed minutes make on the
      same counts cannot decide before floor - 1 (counts only grow).
  ttd.py agree BACKFILL.ndjson STREAM.ndjson
      Starts and Ends of each with the same IDs and minute in the other
"""
import gzip
import json
import math
import os
import sys
from datetime import datetime, timezone


def delivery_order(src):
    files = []
    for root, dirs, names in os.walk(os.path.join(src, "AWSLogs")):
        dirs[:] = sorted(d for d in dirs if d != "CloudTrail-Digest")
        for n in names:
            if n.endswith(".json.gz") and "_CloudTrail_" in n:
                files.append((n.split("_")[3], os.path.join(root, n)))
    files.sort()
    return [p for _, p in files]


def deliver(src):
    out = sys.stdout
    n = 0
    for path in delivery_order(src):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for rec in json.load(f)["Records"]:
                out.write(json.dumps(rec, separators=(",", ":")))
                out.write("\n")
                n += 1
    print(f"ttd.py: {n} records in delivery order", file=sys.stderr)
    return 0


def secs(t):
    t = t.replace("Z", "+00:00")
    return datetime.fromisoformat(t).astimezone(timezone.utc).timestamp()


def nearest_rank(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def load_starts(path):
    starts = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            if e["insightDetails"]["state"] == "Start":
                starts.append(e)
    return starts


def first_match(an, starts, slack):
    """The first Start of the label's series and type dated within slack
    minutes of it, or None."""
    ls, le = secs(an["start"]), secs(an["end"])
    hit = None
    for e in starts:
        d = e["insightDetails"]
        t = secs(e["eventTime"])
        if (e["recipientAccountId"] == an["account"] and e["awsRegion"] == an["region"]
                and d["eventSource"] == an["eventSource"] and d["eventName"] == an["eventName"]
                and d["insightType"] == an["insightType"]
                and d.get("errorCode") == an.get("errorCode")
                and ls - slack * 60 <= t < le + slack * 60):
            if hit is None or t < secs(hit["eventTime"]):
                hit = e
    return hit


def score(argv):
    slack = 5
    jout = None
    floor_path = None
    lateness = 20
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--slack":
            slack = int(argv[i + 1])
            i += 2
        elif argv[i] == "--json":
            jout = argv[i + 1]
            i += 2
        elif argv[i] == "--floor":
            floor_path = argv[i + 1]
            i += 2
        elif argv[i] == "--lateness":
            lateness = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    labels_path, insights_path = args
    with open(labels_path) as f:
        labels = json.load(f)["anomalies"]
    starts = load_starts(insights_path)
    closed = load_starts(floor_path) if floor_path else None
    by_kind = {}
    rows = []
    for an in labels:
        ls = secs(an["start"])
        hit = first_match(an, starts, slack)
        k = by_kind.setdefault(an["kind"], {"n": 0, "found": 0, "lags": [], "early": 0,
                                            "onset_err": [], "floors": []})
        k["n"] += 1
        row = {"id": an.get("id"), "kind": an["kind"], "start": an["start"], "found": hit is not None}
        if hit is not None:
            ctx = hit["insightDetails"].get("trailsightContext", {})
            k["found"] += 1
            k["onset_err"].append(abs(secs(hit["eventTime"]) - ls) / 60)
            row["onset_error_min"] = (secs(hit["eventTime"]) - ls) / 60
            if "decisionEventTime" in ctx:
                lag = (secs(ctx["decisionEventTime"]) - ls) / 60
                k["lags"].append(lag)
                row["lag_min"] = lag
            if ctx.get("early"):
                k["early"] += 1
            row["early"] = bool(ctx.get("early"))
        if closed is not None:
            b = first_match(an, closed, slack)
            ctx = b["insightDetails"].get("trailsightContext", {}) if b else {}
            if "decisionEventTime" in ctx:
                fl = (secs(ctx["decisionEventTime"]) - lateness * 60 - ls) / 60
                k["floors"].append(fl)
                row["floor_min"] = fl
        rows.append(row)
    head = "kind     anomalies  found  early  lag median  lag p90  onset |err| median"
    print(head + ("  floor median  floor p90" if closed is not None else ""))
    summary = {}
    for kind in sorted(by_kind):
        k = by_kind[kind]
        lags = k["lags"]
        med = median(lags) if lags else float("nan")
        p90 = nearest_rank(lags, 0.9) if lags else float("nan")
        oe = median(k["onset_err"]) if k["onset_err"] else float("nan")
        line = f"{kind:8} {k['n']:9}  {k['found']:5}  {k['early']:5}  {med:10.1f}  {p90:7.1f}  {oe:17.1f}"
        summary[kind] = {"anomalies": k["n"], "found": k["found"], "early": k["early"],
                         "lag_median_min": med, "lag_p90_min": p90, "onset_abs_err_median_min": oe}
        if closed is not None:
            fl = k["floors"]
            fmed = median(fl) if fl else float("nan")
            fp90 = nearest_rank(fl, 0.9) if fl else float("nan")
            line += f"  {fmed:12.1f}  {fp90:9.1f}"
            summary[kind].update({"floor_median_min": fmed, "floor_p90_min": fp90})
        print(line)
    if jout:
        with open(jout, "w") as f:
            json.dump({"kinds": summary, "anomalies": rows}, f, indent=1)
    return 0


def agree(bpath, spath):
    """How far a stream's events agree with a backfill's on the same files."""
    def load(p):
        with open(p) as f:
            return [json.loads(line) for line in f if line.strip()]
    b, s = load(bpath), load(spath)

    def ids(evs, state):
        return {(e["sharedEventID"], e["eventID"], e["eventTime"]) for e in evs
                if e["insightDetails"]["state"] == state}
    bs, ss = ids(b, "Start"), ids(s, "Start")
    be, se = ids(b, "End"), ids(s, "End")
    print(f"Starts: backfill {len(bs)}, stream {len(ss)}, the same IDs and minute {len(bs & ss)}; "
          f"Ends: backfill {len(be)}, stream {len(se)}, the same {len(be & se)}")
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "agree":
        return agree(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "deliver":
        return deliver(argv[1])
    if len(argv) >= 3 and argv[0] == "score":
        return score(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
