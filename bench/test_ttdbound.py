#!/usr/bin/env python3
"""test_ttdbound.py - checks bench/ttdbound.py on a hand-made one-day corpus
whose numbers are worked out below.

  python3 bench/test_ttdbound.py        (standard library only; exit 0 = pass)

Truth: write APIs A and B expect 1 call a minute all day (a flat curve),
read-only API C 10 calls a minute, each failing with Throttling at 0.01.
The records give each of A and B one call a minute and C ten, except:

  A  01:40  3 calls (normal)       p = P(Pois(1) >= 3) = 1 - 2.5/e = 0.0803014
  A  10:00-10:02  2, 2, 4 calls    spike #1 from 10:00 (label to 10:20)
  B  13:20  2 calls, 13:26-13:28 3 calls   spike #2 from 13:20 (to 13:30)
  C  05:00  1 Throttling (normal)  p = 1 - 0.99^10 = 0.0956179
  C  16:40  2 Throttling           error burst #3 from 16:40 (to 17:00)

Spikes against the smallest normal p, 1 - 2.5/e (A at 01:40, one minute):
  #1 by 1 minute: 2 on 1, P(Pois(1) >= 2) = 1 - 2/e = 0.264241; by 2: 4 on 2,
     1 - 19/3 e^-2 = 0.142877; by 3: 8 on 3 (10:00-10:02) = 0.0119045, below
     it: oracle lag 3.
  #2 by 1..6 minutes: 2 on 1 at most (0.264241), undecidable by 3 and by 6;
     by 7: 3 on 1, exactly the normal p (not below); by 8: 6 on 2,
     1 - 7.26667 e^-2 = 0.0165636: oracle lag 8.
  median (3 + 8) / 2 = 5.5, p90 (nearest rank) 8; with --horizon 7 #2 has
  none (> 7) and the p90 is infinite. With --score giving stream lags 5.5
  and 8.5, #1 is late against the bound (5.5 > 3 + 1), #2 is not.
Error burst #3 by 1 minute: P(Bin(10, 0.01) >= 2) = 0.00426620, below the
normal 0.0956179: oracle lag 1, nothing undecidable.
"""
import gzip
import io
import json
import math
import os
import sys
import tempfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttdbound  # noqa: E402

ACCT = "111122223333"
START = "2026-01-05T00:00:00Z"


def series(name, ro, base, errors):
    return {"account": ACCT, "region": "us-east-1", "eventSource": "s.amazonaws.com",
            "eventName": name, "readOnly": ro, "rare": False, "role": "normal", "base": base,
            "night": 1.0, "peak": 15.0, "norm": 1.0, "weekend": 0.5, "errors": errors}


def label(i, kind, name, start, end, code=None):
    return {"id": i, "kind": kind,
            "insightType": "ApiErrorRateInsight" if code else "ApiCallRateInsight",
            "account": ACCT, "region": "us-east-1", "eventSource": "s.amazonaws.com",
            "eventName": name, "errorCode": code, "start": f"2026-01-05T{start}:00Z",
            "end": f"2026-01-05T{end}:00Z", "factor": 3.0, "baseRate": 1.0}


def make_corpus(d):
    counts = {"A": [1] * 1440, "B": [1] * 1440}
    counts["A"][100] = 3
    counts["A"][600:603] = [2, 2, 4]
    counts["B"][800] = 2
    counts["B"][806:809] = [3, 3, 3]
    recs = []
    for name, xs in counts.items():
        for m, n in enumerate(xs):
            for _ in range(n):
                recs.append({"eventTime": "2026-01-05T%02d:%02d:30Z" % (m // 60, m % 60),
                             "recipientAccountId": ACCT, "awsRegion": "us-east-1",
                             "eventSource": "s.amazonaws.com", "eventName": name,
                             "readOnly": False})
    for m in range(1440):
        fails = {300: 1, 1000: 2}.get(m, 0)
        for i in range(10):
            r = {"eventTime": "2026-01-05T%02d:%02d:10Z" % (m // 60, m % 60),
                 "recipientAccountId": ACCT, "awsRegion": "us-east-1",
                 "eventSource": "s.amazonaws.com", "eventName": "C", "readOnly": True}
            if i < fails:
                r["errorCode"] = "Throttling"
            recs.append(r)
    part = os.path.join(d, "AWSLogs", ACCT, "CloudTrail", "us-east-1", "2026", "01", "05")
    os.makedirs(part)
    with gzip.open(os.path.join(part, f"{ACCT}_CloudTrail_us-east-1_20260105T0000Z_x.json.gz"),
                   "wt") as f:
        json.dump({"Records": recs}, f)
    with open(os.path.join(d, "labels.json"), "w") as f:
        json.dump({"generator": "trailsight-gen", "seed": 1, "start": START, "days": 1,
                   "anomalyAfter": 0, "anomalies": [
                       label(1, "spike", "A", "10:00", "10:20"),
                       label(2, "spike", "B", "13:20", "13:30"),
                       label(3, "error", "C", "16:40", "17:00", "Throttling")]}, f)
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump({"generator": "trailsight-gen", "truth": 1, "seed": 1, "start": START,
                   "startDay": 20458, "days": 1, "drifted": False, "series": [
                       series("A", False, 1.0, {}), series("B", False, 1.0, {}),
                       series("C", True, 10.0, {"Throttling": 0.01})]}, f)


def run(args):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = ttdbound.main(args)
    assert rc == 0, rc
    return out.getvalue()


def main():
    failures = 0

    def check(what, got, want, rel=1e-5):
        nonlocal failures
        if isinstance(want, float) and not math.isinf(want):
            ok = got is not None and abs(got - want) <= rel * abs(want)
        else:
            ok = got == want
        print(("ok   " if ok else "FAIL ") + f"{what}: {got!r}" + ("" if ok else f" (want {want!r})"))
        failures += not ok

    e = math.e
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "c")
        make_corpus(corpus)
        js = os.path.join(tmp, "b.json")
        text = run([corpus, "--json", js])
        with open(js) as f:
            got = json.load(f)
        summ = got["summary"]["c, normal windows from day 0"]
        sp, er = summ["spike"], summ["error"]
        check("spike normal smallest p", 10 ** sp["normal_min_log10_p"], 1 - 2.5 / e)
        check("spike normal smallest at A 01:40", sp["normal_min_at"].endswith("A window ending 2026-01-05T01:40"), True)
        check("spikes undecidable by 3", sp["undecidable_by_3"], 1)
        check("spikes undecidable by 6", sp["undecidable_by_6"], 1)
        check("spike oracle lag median", sp["oracle_lag_median_min"], 5.5)
        check("spike oracle lag p90", sp["oracle_lag_p90_min"], 8)
        check("error normal smallest p", 10 ** er["normal_min_log10_p"], 1 - 0.99 ** 10)
        check("errors undecidable by 6", er["undecidable_by_6"], 0)
        check("error oracle lag p90", er["oracle_lag_p90_min"], 1)
        rows = {r["id"]: r for r in got["anomalies"]}
        p1 = [10 ** x for x in rows[1]["log10_p"]]
        check("#1 by 1 minute", p1[0], 1 - 2 / e)
        check("#1 by 2 minutes", p1[1], 1 - 19 / 3 * e ** -2)
        p8on3 = 1 - e ** -3 * sum(3 ** k / math.factorial(k) for k in range(8))
        check("#1 by 3 minutes (8 on 3)", p1[2], p8on3)
        check("#1 by 6 minutes", p1[5], p8on3)
        p2 = [10 ** x for x in rows[2]["log10_p"]]
        check("#2 by 6 minutes", p2[5], 1 - 2 / e)
        check("#2 by 7 minutes: the normal p", p2[6], 1 - 2.5 / e)
        check("#2 by 8 minutes (6 on 2)", p2[7], 1 - 109 / 15 * e ** -2)
        check("#2 oracle lag", rows[2]["oracle_lag_min"]["c, normal windows from day 0"], 8)
        p3 = 10 ** rows[3]["log10_p"][0]
        check("#3 by 1 minute", p3, 1 - 0.99 ** 10 - 10 * 0.01 * 0.99 ** 9)
        check("#2 printed as undecidable", "#2 B (x3 on 1/min)" in text, True)

        sc = os.path.join(tmp, "score.json")
        with open(sc, "w") as f:
            json.dump({"anomalies": [{"id": 1, "kind": "spike", "lag_min": 5.5},
                                     {"id": 2, "kind": "spike", "lag_min": 8.5},
                                     {"id": 3, "kind": "error", "found": False}]}, f)
        text = run([corpus, "--score", sc, "--json", js])
        with open(js) as f:
            got = json.load(f)
        summ = got["summary"]["c, normal windows from day 0"]
        check("--score: spikes late against the bound (#1: 5.5 > 3 + 1)",
              summ["spike"]["late_in_stream"], 1)
        check("--score: #1 listed with its stream lag",
              "#1 A (x3 on 1/min): p by 3 min 1.2e-2, by 6 1.2e-2; oracle lag 3, stream 5.5" in text,
              True)
        check("--score: errors late", summ["error"]["late_in_stream"], 0)

        run([corpus, "--horizon", "7", "--json", js])
        with open(js) as f:
            got = json.load(f)
        rows = {r["id"]: r for r in got["anomalies"]}
        check("--horizon 7: #2 without an oracle lag",
              rows[2]["oracle_lag_min"]["c, normal windows from day 0"], None)
        check("--horizon 7: spike p90",
              got["summary"]["c, normal windows from day 0"]["spike"]["oracle_lag_p90_min"],
              math.inf)
        truth = os.path.join(corpus, "truth.json")
        with open(truth) as f:
            t = json.load(f)
        t["seed"] = 2
        other = os.path.join(tmp, "other.json")
        with open(other, "w") as f:
            json.dump(t, f)
        try:
            run([corpus, "--truth", other])
            check("a truth of another seed refused", False, True)
        except SystemExit:
            check("a truth of another seed refused", True, True)
    print("test_ttdbound.py: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
