#!/usr/bin/env python3
"""score.py - scores trailsight insights against trailsight-gen labels.

  bench/score.py [options] INSIGHTS LABELS [INSIGHTS LABELS ...]

INSIGHTS is the NDJSON that `trailsight backfill` prints; LABELS is the
labels.json that `trailsight-gen` wrote for the same corpus. Several pairs
(one per seed or corpus) are pooled into one score.

A Start event matches a labelled anomaly when the account
(recipientAccountId), Region (awsRegion), eventSource, eventName and
insightType agree (for ApiErrorRateInsight also errorCode), and the
insight's episode (Start to End; to the end of the corpus when it has no
End) overlaps the labelled window widened by --slack-before minutes before
its start and --slack-after minutes after its end (`--match start` asks
instead that the Start itself falls in that widened window).

Reported, per insight type and per anomaly kind (spike, drop, error, ramp):
labels, found, missed, Starts, matched Starts, duplicates (extra Starts on a
label already found), false positives (Starts matching no label),
precision = matched Starts / Starts (duplicates count as matched unless
--dups-are-fp), recall = found / labels, F1, and the detection delay of each
found label (its first Start's eventTime minus the label's start; for a
ramp the label's `start`, the first minute above x2) as median and p90
(nearest rank), in minutes; the onset error is the same without its sign
(median, p90, max; a separate table also pools spikes, drops and errors
and counts the found labels dated within 1 and 3 minutes). False positives have no kind: error-rate ones
count against `error`, call-rate ones below the expected rate against
`drop`, above it against both `spike` and `ramp`.

False positives on the series the labels list under `regular` (normal
activity that must never fire) are counted per regular kind: call-rate
Starts on `hourly_cron`, `daily_cron` and `rare` APIs, error-rate Starts of
the chronic code on `chronic_errors` APIs. Then every false positive and
every missed label is listed with its details.

Output: a human-readable report on stdout; --json FILE and --csv FILE
(`-` for stdout, which replaces the report) for machines; --row FILE
appends one wide summary line (a header first when FILE is empty or new),
with the --tag KEY=VALUE columns in front, for sweeps. Exit status 0; 1
when an input cannot be read or is not what it should be (the message names
the file and line); 2 on bad usage.
"""
import argparse
import calendar
import csv
import json
import math
import os
import sys
import time
from collections import defaultdict

CALL = "ApiCallRateInsight"
ERROR = "ApiErrorRateInsight"
TYPES = (CALL, ERROR)
KINDS = ("spike", "drop", "error", "ramp", "job_stop", "job_burst")
KIND_TYPE = {"spike": CALL, "drop": CALL, "ramp": CALL, "error": ERROR}
REGULAR_KINDS = ("hourly_cron", "daily_cron", "chronic_errors", "rare")


class InputError(Exception):
    pass


def parse_minute(text, where):
    """'YYYY-MM-DDTHH:MM[:SS[.fff]]Z' -> minutes since the epoch (UTC)."""
    if not isinstance(text, str) or len(text) < 16 or text[10] != "T":
        raise InputError("%s: bad time %r" % (where, text))
    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute = int(text[11:13]), int(text[14:16])
    except ValueError:
        raise InputError("%s: bad time %r" % (where, text)) from None
    secs = calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))
    return secs // 60


def is_weekend(m):
    """Whether minute m (since the epoch) falls on a Saturday or Sunday, UTC."""
    return time.gmtime(m * 60).tm_wday >= 5


def fp_days(fp):
    """False-positive Starts by day (weekday, weekend) and direction."""
    out = {d: {"up": 0, "down": 0, "error": 0} for d in ("weekday", "weekend")}
    for s in fp:
        out["weekend" if is_weekend(s["start"]) else "weekday"][s["direction"]] += 1
    return out


def show_minute(m):
    t = time.gmtime(m * 60)
    return "%04d-%02d-%02dT%02d:%02dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min)


class Corpus:
    """One (insights, labels) pair."""

    def __init__(self, index, insights_path, labels_path):
        self.index = index
        self.insights_path = insights_path
        self.labels_path = labels_path
        self.name = os.path.basename(os.path.dirname(os.path.abspath(labels_path))) \
            or labels_path
        self.labels = []
        self.regular = []
        self.starts = []
        self.seed = None
        self.end_minute = None
        self.subtle = False


def load_labels(c):
    try:
        with open(c.labels_path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise InputError("%s: %s" % (c.labels_path, e.strerror)) from None
    except ValueError as e:
        raise InputError("%s: not JSON: %s" % (c.labels_path, e)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("anomalies"), list):
        raise InputError("%s: no \"anomalies\" list; is it a trailsight-gen labels file?"
                         % c.labels_path)
    c.seed = doc.get("seed")
    c.subtle = doc.get("subtle") is True
    if isinstance(doc.get("start"), str) and isinstance(doc.get("days"), int):
        c.end_minute = parse_minute(doc["start"], c.labels_path) + doc["days"] * 1440
    for i, a in enumerate(doc["anomalies"]):
        where = "%s: anomaly %d" % (c.labels_path, i + 1)
        try:
            kind = a["kind"]
            itype = a["insightType"]
            key = (c.index, a["account"], a["region"], a["eventSource"], a["eventName"],
                   itype, a.get("errorCode") if itype == ERROR else None)
        except (KeyError, TypeError) as e:
            raise InputError("%s: missing field %s" % (where, e)) from None
        if kind not in KINDS or itype not in TYPES:
            raise InputError("%s: unknown kind %r or insightType %r" % (where, kind, itype))
        start = parse_minute(a.get("start"), where)
        end = parse_minute(a.get("end"), where)
        c.labels.append({"corpus": c, "id": a.get("id", i + 1), "kind": kind, "type": itype,
                         "key": key, "start": start, "end": end, "raw": a,
                         "starts": []})
    for i, r in enumerate(doc.get("regular", [])):
        where = "%s: regular %d" % (c.labels_path, i + 1)
        try:
            api = (c.index, r["account"], r["region"], r["eventSource"], r["eventName"])
            kind = r["kind"]
        except (KeyError, TypeError) as e:
            raise InputError("%s: missing field %s" % (where, e)) from None
        c.regular.append({"kind": kind, "api": api, "raw": r})


def load_insights(c):
    starts = {}
    ends = {}
    try:
        f = open(c.insights_path, encoding="utf-8")
    except OSError as e:
        raise InputError("%s: %s" % (c.insights_path, e.strerror)) from None
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = "%s:%d" % (c.insights_path, lineno)
            try:
                e = json.loads(line)
                d = e["insightDetails"]
                state = d["state"]
                sid = e["sharedEventID"]
                t = parse_minute(e["eventTime"], where)
            except ValueError as err:
                raise InputError("%s: not JSON: %s" % (where, err)) from None
            except (KeyError, TypeError) as err:
                raise InputError("%s: not an insight event (missing %s)" % (where, err)) from None
            if state == "Start":
                starts[sid] = (t, e, lineno)
            elif state == "End":
                ends[sid] = t
            else:
                raise InputError("%s: unknown state %r" % (where, state))
    for sid, (t, e, lineno) in starts.items():
        d = e["insightDetails"]
        itype = d.get("insightType")
        if itype not in TYPES:
            raise InputError("%s:%d: unknown insightType %r" % (c.insights_path, lineno, itype))
        key = (c.index, e.get("recipientAccountId"), e.get("awsRegion"), d.get("eventSource"),
               d.get("eventName"), itype, d.get("errorCode") if itype == ERROR else None)
        stats = d.get("insightContext", {}).get("statistics", {})
        observed = stats.get("insight", {}).get("average")
        baseline = stats.get("baseline", {}).get("average")
        ctx = d.get("trailsightContext") or {}
        expected = ctx.get("expectedAverage", baseline)
        if itype == ERROR:
            direction = "error"
        elif observed is not None and expected is not None and observed < expected:
            direction = "down"
        else:
            direction = "up"
        end = ends.get(sid)
        if end is None:
            end = c.end_minute if c.end_minute is not None and c.end_minute > t else t + 1
            is_open = True
        else:
            is_open = False
        c.starts.append({"corpus": c, "key": key, "type": itype, "start": t,
                         "end": max(end, t + 1), "open": is_open, "observed": observed,
                         "expected": expected, "baseline": baseline,
                         "pValue": ctx.get("pValue"), "direction": direction,
                         "label": None, "regular": None, "line": lineno})
    c.starts.sort(key=lambda s: (s["start"], s["key"]))


def match(corpora, before, after, mode):
    """Assigns every Start to at most one label (the nearest in start time)."""
    for c in corpora:
        by_key = defaultdict(list)
        for lab in c.labels:
            by_key[lab["key"]].append(lab)
        for s in c.starts:
            best = None
            for lab in by_key.get(s["key"], ()):
                lo, hi = lab["start"] - before, lab["end"] + after
                if mode == "start":
                    ok = lo <= s["start"] < hi
                else:
                    ok = s["start"] < hi and s["end"] > lo
                if ok and (best is None or
                           abs(s["start"] - lab["start"]) < abs(s["start"] - best["start"])):
                    best = lab
            if best is not None:
                s["label"] = best
                best["starts"].append(s)


def regular_of(c):
    """Marks false-positive Starts that fall on a regular series."""
    by_api = defaultdict(list)
    for r in c.regular:
        by_api[r["api"]].append(r)
    for s in c.starts:
        if s["label"] is not None:
            continue
        api = s["key"][:5]
        for r in by_api.get(api, ()):
            if r["kind"] == "chronic_errors":
                hit = s["type"] == ERROR and s["key"][6] == r["raw"].get("errorCode")
            else:
                hit = s["type"] == CALL
            if hit:
                s["regular"] = r
                break


def median(xs):
    if not xs:
        return None
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def p90(xs):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(0, math.ceil(0.9 * len(xs)) - 1)]


def ratio(a, b):
    return a / b if b else None


def f1(p, r):
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def onset_errors(labels):
    """|first matching Start - label start| of each found label, minutes."""
    return [abs(min(s["start"] for s in lab["starts"]) - lab["start"])
            for lab in labels if lab["starts"]]


def group_row(name, scope, labels, starts, extra_fp, dups_fp):
    """labels: the group's labels; starts: the group's matched Starts;
    extra_fp: false-positive Starts charged to the group."""
    found = [lab for lab in labels if lab["starts"]]
    delays = [min(s["start"] for s in lab["starts"]) - lab["start"] for lab in found]
    onsets = onset_errors(labels)
    tp = len(starts)
    dup = sum(len(lab["starts"]) - 1 for lab in found)
    fp = len(extra_fp)
    n_starts = tp + fp
    good = tp - dup if dups_fp else tp
    # a kind without labels has no meaningful precision (its charged false
    # positives belong to kinds that were not injected)
    precision = None if (scope == "kind" and not labels) or scope == "subset" \
        else ratio(good, n_starts)
    recall = ratio(len(found), len(labels))
    return {"scope": scope, "group": name, "labels": len(labels), "found": len(found),
            "missed": len(labels) - len(found), "starts": n_starts, "matched": tp,
            "dup": dup, "fp": fp, "precision": precision, "recall": recall,
            "f1": f1(precision, recall), "delay_median": median(delays),
            "delay_p90": p90(delays), "delay_max": max(delays) if delays else None,
            "onset_median": median(onsets), "onset_p90": p90(onsets),
            "onset_max": max(onsets) if onsets else None}


def score(corpora, dups_fp):
    labels = [lab for c in corpora for lab in c.labels]
    starts = [s for c in corpora for s in c.starts]
    tp = [s for s in starts if s["label"] is not None]
    fp = [s for s in starts if s["label"] is None]
    rows = [group_row("all", "all", labels, tp, fp, dups_fp)]
    for t in TYPES:
        rows.append(group_row(t, "type", [x for x in labels if x["type"] == t],
                              [s for s in tp if s["type"] == t],
                              [s for s in fp if s["type"] == t], dups_fp))
    charge = {"spike": ("up",), "ramp": ("up",), "drop": ("down",), "error": ("error",),
              "job_stop": (), "job_burst": ()}
    for k in KINDS:
        rows.append(group_row(k, "kind", [x for x in labels if x["kind"] == k],
                              [s for s in tp if s["label"]["kind"] == k],
                              [s for s in fp if s["direction"] in charge[k]], dups_fp))
    # recall on the small anomalies of corpora made with trailsight-gen --subtle
    sub = [x for x in labels if x["corpus"].subtle and x["kind"] in ("spike", "drop", "error")]
    if sub:
        rows.append(group_row("subtle", "subset", sub, [s for s in tp if s["label"] in sub],
                              [], dups_fp))
    regular = []
    for k in REGULAR_KINDS:
        series = [r for c in corpora for r in c.regular if r["kind"] == k]
        hits = [s for s in fp if s["regular"] is not None and s["regular"]["kind"] == k]
        regular.append({"kind": k, "series": len(series), "fp": len(hits),
                        "series_with_fp": len({id(s["regular"]) for s in hits})})
    other = [s for s in fp if s["regular"] is None]
    regular.append({"kind": "other", "series": None, "fp": len(other),
                    "series_with_fp": len({s["key"] for s in other})})
    return rows, regular, labels, starts, fp


def fmt(v, width):
    return ("-" if v is None else "%.3f" % v).rjust(width)


def fmt_delay(v):
    if v is None:
        return "-"
    return ("%.1f" % v) if not float(v).is_integer() else "%d" % v


def series_name(key):
    _, acct, region, src, name, _, code = key
    s = "%s/%s %s:%s" % (acct, region, src.replace(".amazonaws.com", ""), name)
    return s + (" [%s]" % code if code else "")


def num(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.3g" % v
    return str(v)


def regular_note(s):
    r = s["regular"]
    raw = r["raw"]
    m = s["start"]
    if r["kind"] == "hourly_cron" and isinstance(raw.get("minute"), int):
        off = (m % 60) - raw["minute"]
        off = (off + 30) % 60 - 30
        return "hourly_cron at :%02d, Start %+d min from it (%s calls)" % (
            raw["minute"], off, raw.get("calls"))
    if r["kind"] == "daily_cron" and isinstance(raw.get("time"), str):
        try:
            cm = int(raw["time"][:2]) * 60 + int(raw["time"][3:5])
        except ValueError:
            cm = None
        if cm is not None:
            off = ((m % 1440) - cm + 720) % 1440 - 720
            return "daily_cron at %s for %s min, Start %+d min from it (%s calls)" % (
                raw["time"], raw.get("minutes"), off, raw.get("calls"))
    if r["kind"] == "chronic_errors":
        return "chronic_errors %s on %s of calls" % (raw.get("errorCode"),
                                                     raw.get("errorFraction"))
    if r["kind"] == "rare":
        return "rare, %s calls a day" % raw.get("perDay")
    return r["kind"]


def miss_note(lab, corpora_starts):
    """Why a label was missed: the nearest Start on the same API, if any."""
    api = lab["key"][:5]
    near = None
    for s in corpora_starts.get(api, ()):
        dist = s["start"] - lab["start"]
        if near is None or abs(dist) < abs(near[0]):
            near = (dist, s)
    if near is None:
        return "no Start on this API"
    dist, s = near
    what = "same type" if s["key"] == lab["key"] else (
        "%s%s" % (s["type"], " " + s["key"][6] if s["key"][6] else ""))
    return "nearest Start on this API: %s (%+d min from label start, %d min long, %s)" % (
        show_minute(s["start"]), dist, s["end"] - s["start"], what)


ONSET_POOL = ("spike", "drop", "error")


def onset_rows(corpora):
    """The onset-error lines: one per anomaly kind with labels, then the
    spike, drop and error labels pooled (the ones the onset target is on)."""
    labels = [lab for c in corpora for lab in c.labels]
    out = []
    groups = [(k, [x for x in labels if x["kind"] == k]) for k in KINDS]
    groups.append(("+".join(ONSET_POOL), [x for x in labels if x["kind"] in ONSET_POOL]))
    for name, labs in groups:
        if not labs:
            continue
        errs = onset_errors(labs)
        out.append({"group": name, "found": len(errs), "median": median(errs),
                    "p90": p90(errs), "max": max(errs) if errs else None,
                    "within1": sum(1 for e in errs if e <= 1),
                    "within3": sum(1 for e in errs if e <= 3)})
    return out


def report(out, corpora, rows, regular, fp, args):
    labels = [lab for c in corpora for lab in c.labels]
    n_starts = sum(len(c.starts) for c in corpora)
    w = out.write
    w("trailsight detection quality: %d corpora (%s), %d labels, %d Start events\n"
      % (len(corpora), ", ".join(c.name for c in corpora), len(labels), n_starts))
    w("match: series and type agree, %s the label window widened by -%d/+%d min%s\n\n"
      % ("episode overlaps" if args.match == "overlap" else "Start falls in", args.slack_before,
         args.slack_after, "; duplicates count as false positives" if args.dups_are_fp else ""))
    head = ("%-20s %6s %5s %6s %6s %7s %4s %4s %9s %6s %6s %9s %9s\n"
            % ("group", "labels", "found", "missed", "starts", "matched", "dup", "FP",
               "precision", "recall", "F1", "delay med", "delay p90"))
    w(head)
    w("-" * (len(head) - 1) + "\n")
    for r in rows:
        w("%-20s %6d %5d %6d %6d %7d %4d %4d %9s %6s %6s %9s %9s\n"
          % (("  " if r["scope"] == "kind" else "") + r["group"], r["labels"], r["found"],
             r["missed"], r["starts"], r["matched"], r["dup"], r["fp"],
             fmt(r["precision"], 9), fmt(r["recall"], 6), fmt(r["f1"], 6),
             fmt_delay(r["delay_median"]).rjust(9), fmt_delay(r["delay_p90"]).rjust(9)))
        if r["group"] == ERROR:
            w("per anomaly kind (false positives charged by direction: up -> spike and ramp,"
              " down -> drop, error-rate -> error):\n")
    w("\nonset error, |first Start's eventTime - label start| in minutes (ramps: the"
      " first minute above x2):\n")
    w("%-20s %5s %6s %6s %6s %8s %8s\n" % ("group", "found", "median", "p90", "max", "<=1 min",
                                            "<=3 min"))
    for r in onset_rows(corpora):
        w("%-20s %5d %6s %6s %6s %8d %8d\n"
          % (r["group"], r["found"], fmt_delay(r["median"]), fmt_delay(r["p90"]),
             fmt_delay(r["max"]), r["within1"], r["within3"]))
    w("\nfalse alarms on regular series (must be 0):\n")
    w("%-16s %7s %6s %15s\n" % ("regular kind", "series", "FP", "series with FP"))
    for r in regular:
        if r["kind"] == "other":
            continue
        w("%-16s %7d %6d %15d\n" % (r["kind"], r["series"], r["fp"], r["series_with_fp"]))
    other = [s for s in fp if s["regular"] is None]
    by_dir = defaultdict(int)
    for s in other:
        by_dir[s["direction"]] += 1
    w("other false positives: %d (call rate up %d, call rate down %d, error rate %d)\n"
      % (len(other), by_dir["up"], by_dir["down"], by_dir["error"]))
    days = fp_days(fp)
    w("false positives by day (UTC): weekdays %d (up %d, down %d, error %d),"
      " weekends %d (up %d, down %d, error %d)\n"
      % tuple(x for d in ("weekday", "weekend")
              for x in (sum(days[d].values()), days[d]["up"], days[d]["down"], days[d]["error"])))
    if args.no_lists:
        return
    limit = args.max_list

    w("\nfalse positives (Starts matching no label): %d\n" % len(fp))
    for s in fp[:limit]:
        note = ("  <- " + regular_note(s)) if s["regular"] else ""
        w("  %-22s %s %-9s %s  %s min%s  observed %s/min expected %s p %s%s\n"
          % (s["corpus"].name, show_minute(s["start"]),
             "call " + s["direction"] if s["type"] == CALL else "error",
             series_name(s["key"]), s["end"] - s["start"], " (open)" if s["open"] else "",
             num(s["observed"]), num(s["expected"]), num(s["pValue"]), note))
    if len(fp) > limit:
        w("  ... %d more (--max-list)\n" % (len(fp) - limit))

    by_api = defaultdict(list)
    for c in corpora:
        for s in c.starts:
            by_api[s["key"][:5]].append(s)
    missed = [lab for lab in labels if not lab["starts"]]
    w("\nmissed labels: %d\n" % len(missed))
    for lab in missed[:limit]:
        raw = lab["raw"]
        extra = ""
        if lab["kind"] == "ramp" and raw.get("rampBegin"):
            extra = " rampBegin %s" % raw["rampBegin"][11:16]
        if lab["kind"] == "error":
            extra = " baseErrorRate %s extraRate %s" % (num(raw.get("baseErrorRate")),
                                                         num(raw.get("extraRate")))
        w("  %-22s #%-3s %-5s %s..%s (%d min) %s  factor %s baseRate %s/min%s\n"
          "      %s\n"
          % (lab["corpus"].name, lab["id"], lab["kind"], show_minute(lab["start"]),
             show_minute(lab["end"])[11:], lab["end"] - lab["start"],
             series_name(lab["key"]), num(raw.get("factor")), num(raw.get("baseRate")),
             extra, miss_note(lab, by_api)))
    if len(missed) > limit:
        w("  ... %d more (--max-list)\n" % (len(missed) - limit))

    dups = [lab for lab in labels if len(lab["starts"]) > 1]
    if dups:
        w("\nlabels found more than once (episode split): %d\n" % len(dups))
        for lab in dups[:limit]:
            w("  %-22s #%-3s %-5s %s..%s %s  Starts at %s\n"
              % (lab["corpus"].name, lab["id"], lab["kind"], show_minute(lab["start"]),
                 show_minute(lab["end"])[11:], series_name(lab["key"]),
                 ", ".join("%+d" % (s["start"] - lab["start"]) for s in lab["starts"])))

    if args.verbose:
        found = [lab for lab in labels if lab["starts"]]
        w("\nfound labels: %d\n" % len(found))
        for lab in found:
            first = min(lab["starts"], key=lambda s: s["start"])
            w("  %-22s #%-3s %-5s %s..%s %s  delay %+d min, episode %d min\n"
              % (lab["corpus"].name, lab["id"], lab["kind"], show_minute(lab["start"]),
                 show_minute(lab["end"])[11:], series_name(lab["key"]),
                 first["start"] - lab["start"], first["end"] - first["start"]))


def start_json(s):
    _, acct, region, src, name, itype, code = s["key"]
    return {"corpus": s["corpus"].name, "account": acct, "region": region,
            "eventSource": src, "eventName": name, "insightType": itype, "errorCode": code,
            "start": show_minute(s["start"]), "minutes": s["end"] - s["start"],
            "open": s["open"], "direction": s["direction"], "observed": s["observed"],
            "expected": s["expected"], "pValue": s["pValue"],
            "regular": s["regular"]["raw"] if s["regular"] else None,
            "label": s["label"]["id"] if s["label"] else None}


def as_json(corpora, rows, regular, fp, args):
    labels = [lab for c in corpora for lab in c.labels]
    out = {"options": {"slack_before": args.slack_before, "slack_after": args.slack_after,
                       "match": args.match, "dups_are_fp": args.dups_are_fp},
           "tags": dict(args.tag),
           "corpora": [{"name": c.name, "insights": c.insights_path, "labels": c.labels_path,
                        "seed": c.seed, "anomalies": len(c.labels), "starts": len(c.starts)}
                       for c in corpora],
           "groups": rows, "regular": regular,
           "onset": onset_rows(corpora),
           "false_positives": [start_json(s) for s in fp],
           "fp_days": fp_days(fp),
           "labels": []}
    for lab in labels:
        first = min(lab["starts"], key=lambda s: s["start"]) if lab["starts"] else None
        out["labels"].append({"corpus": lab["corpus"].name, "label": lab["raw"],
                              "found": first is not None,
                              "delay": first["start"] - lab["start"] if first else None,
                              "starts": [start_json(s) for s in lab["starts"]]})
    return out


CSV_FIELDS = ["scope", "group", "labels", "found", "missed", "starts", "matched", "dup", "fp",
              "precision", "recall", "f1", "delay_median", "delay_p90", "delay_max",
              "onset_median", "onset_p90", "onset_max"]


def csv_value(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return "%.6g" % v
    return v


def write_csv(path, rows, regular, tags):
    f = sys.stdout if path == "-" else open(path, "w", newline="", encoding="utf-8")
    try:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow([k for k, _ in tags] + CSV_FIELDS)
        for r in rows:
            wr.writerow([v for _, v in tags] + [csv_value(r[k]) for k in CSV_FIELDS])
        for r in regular:
            row = {"scope": "regular", "group": r["kind"], "labels": r["series"],
                   "starts": r["fp"], "fp": r["fp"], "found": r["series_with_fp"]}
            wr.writerow([v for _, v in tags] + [csv_value(row.get(k)) for k in CSV_FIELDS])
    finally:
        if f is not sys.stdout:
            f.close()


def wide_row(corpora, rows, regular):
    by = {r["group"]: r for r in rows}
    a = by["all"]
    row = [("corpora", len(corpora)), ("labels", a["labels"]), ("starts", a["starts"]),
           ("found", a["found"]), ("fp", a["fp"]), ("dup", a["dup"]),
           ("precision", a["precision"]), ("recall", a["recall"]), ("f1", a["f1"]),
           ("delay_median", a["delay_median"]), ("delay_p90", a["delay_p90"])]
    for t, short in ((CALL, "call"), (ERROR, "err")):
        r = by[t]
        row += [(short + "_precision", r["precision"]), (short + "_recall", r["recall"]),
                (short + "_f1", r["f1"]), (short + "_fp", r["fp"])]
    for k in KINDS:
        r = by[k]
        row += [(k + "_recall", r["recall"]), (k + "_delay_median", r["delay_median"]),
                (k + "_delay_p90", r["delay_p90"]), (k + "_onset_median", r["onset_median"]),
                (k + "_onset_p90", r["onset_p90"])]
    total = 0
    for r in regular:
        if r["kind"] != "other":
            row.append(("fp_" + r["kind"], r["fp"]))
            total += r["fp"]
    row.append(("fp_regular", total))
    return row


def append_row(path, tags, row):
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        if new:
            wr.writerow([k for k, _ in tags] + [k for k, _ in row])
        wr.writerow([v for _, v in tags] + [csv_value(v) for _, v in row])


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="score.py", usage="%(prog)s [options] INSIGHTS LABELS [INSIGHTS LABELS ...]",
        description="Scores trailsight insight events (NDJSON from `trailsight backfill`) "
                    "against trailsight-gen labels.json files; several pairs pool into one "
                    "score. See the top of this file for the exact rules.")
    ap.add_argument("files", nargs="+", metavar="INSIGHTS LABELS",
                    help="pairs of insights NDJSON and labels.json")
    ap.add_argument("--slack", type=int, metavar="MIN",
                    help="minutes of slack on both sides of a label (sets both below)")
    ap.add_argument("--slack-before", type=int, default=5, metavar="MIN",
                    help="minutes before a label's start still matched (default 5)")
    ap.add_argument("--slack-after", type=int, default=5, metavar="MIN",
                    help="minutes after a label's end still matched (default 5)")
    ap.add_argument("--match", choices=("overlap", "start"), default="overlap",
                    help="overlap: the insight's episode overlaps the widened label window "
                         "(default); start: its Start falls in it")
    ap.add_argument("--dups-are-fp", action="store_true",
                    help="count extra Starts on an already found label as false positives")
    ap.add_argument("--json", metavar="FILE", help="write the full result as JSON (- stdout)")
    ap.add_argument("--csv", metavar="FILE", help="write one row per group as CSV (- stdout)")
    ap.add_argument("--row", metavar="FILE",
                    help="append one wide summary row to a CSV file (header when new)")
    ap.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                    help="extra leading column for --csv/--row and field in --json; repeatable")
    ap.add_argument("--max-list", type=int, default=60, metavar="N",
                    help="list at most N false positives and N missed labels (default 60)")
    ap.add_argument("--no-lists", action="store_true",
                    help="print only the tables, not the lists")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list every found label")
    ap.add_argument("-q", "--quiet", action="store_true", help="no human report on stdout")
    args = ap.parse_args(argv)
    if len(args.files) % 2:
        ap.error("expected pairs of INSIGHTS LABELS, got %d file(s)" % len(args.files))
    if args.slack is not None:
        args.slack_before = args.slack_after = args.slack
    if args.slack_before < 0 or args.slack_after < 0:
        ap.error("slack must be >= 0")
    tags = []
    for t in args.tag:
        if "=" not in t or not t.split("=", 1)[0]:
            ap.error("--tag wants KEY=VALUE, got %r" % t)
        tags.append(tuple(t.split("=", 1)))
    args.tag = tags
    if args.json == "-" and args.csv == "-":
        ap.error("--json - and --csv - cannot both go to stdout")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    corpora = []
    try:
        for i in range(0, len(args.files), 2):
            c = Corpus(i // 2, args.files[i], args.files[i + 1])
            load_labels(c)
            load_insights(c)
            corpora.append(c)
    except InputError as e:
        print("score.py: %s" % e, file=sys.stderr)
        return 1
    names = [c.name for c in corpora]
    for c in corpora:
        if names.count(c.name) > 1:
            c.name = "%s#%d" % (c.name, c.index + 1)
    match(corpora, args.slack_before, args.slack_after, args.match)
    for c in corpora:
        regular_of(c)
    rows, regular, _, _, fp = score(corpora, args.dups_are_fp)
    try:
        if args.json:
            doc = as_json(corpora, rows, regular, fp, args)
            if args.json == "-":
                json.dump(doc, sys.stdout, indent=1)
                sys.stdout.write("\n")
            else:
                with open(args.json, "w", encoding="utf-8") as f:
                    json.dump(doc, f, indent=1)
                    f.write("\n")
        if args.csv:
            write_csv(args.csv, rows, regular, args.tag)
        if args.row:
            append_row(args.row, args.tag, wide_row(corpora, rows, regular))
    except OSError as e:
        print("score.py: cannot write %s: %s" % (e.filename, e.strerror), file=sys.stderr)
        return 1
    if not args.quiet and "-" not in (args.json, args.csv):
        report(sys.stdout, corpora, rows, regular, fp, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
