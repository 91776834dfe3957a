#!/usr/bin/env python3
"""test_ttd.py - checks bench/ttd.py score, with --floor, on a hand-made
case whose numbers are worked out below.

  python3 bench/test_ttd.py        (standard library only; exit 0 = pass)

Labels: L1 spike on A from 10:00, L2 spike on B from 12:00, L3 error burst
on C from 14:00.

  stream    A Start 10:00 decided 10:07:59   lag 7.98
            B Start 12:00 decided 12:01:30   lag 1.5
            C (no Start)                     not found
  backfill  A Start 10:00 decided 10:28:00   made by minute 10:07's close
                                             (10:28 - 20 - 1): floor 8.0
            B Start 12:01 decided 12:22:00   floor 2.0
            C Start 14:00 decided 14:23:00   floor 3.0 (the stream missed
                                             it; the floor stands alone)

spike: 2 anomalies, 2 found, lags [7.98, 1.5]: median 4.74, p90 (nearest
rank) 7.98; floors [8, 2]: median 5, p90 8. error: 1 anomaly, none found,
floor 3. With --lateness 10 every floor is 10 minutes more.
"""
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ttd  # noqa: E402

ACCT = "111122223333"


def label(i, kind, name, start, end, itype="ApiCallRateInsight", code=None):
    return {"id": i, "kind": kind, "insightType": itype, "account": ACCT,
            "region": "us-east-1", "eventSource": "s.amazonaws.com", "eventName": name,
            "errorCode": code, "start": f"2026-01-12T{start}:00Z", "end": f"2026-01-12T{end}:00Z"}


def start(name, minute, decided, itype="ApiCallRateInsight", code=None):
    d = {"state": "Start", "eventSource": "s.amazonaws.com", "eventName": name,
         "insightType": itype,
         "trailsightContext": {"decisionEventTime": f"2026-01-12T{decided}Z"}}
    if code:
        d["errorCode"] = code
    return {"eventTime": f"2026-01-12T{minute}:00Z", "recipientAccountId": ACCT,
            "awsRegion": "us-east-1", "insightDetails": d}


def write(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")


def run(args):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = ttd.main(args)
    assert rc == 0, rc
    return out.getvalue()


def main():
    failures = 0

    def check(what, got, want):
        nonlocal failures
        ok = abs(got - want) < 1e-6 if isinstance(want, float) else got == want
        print(("ok   " if ok else "FAIL ") + f"{what}: {got!r}" + ("" if ok else f" (want {want!r})"))
        failures += not ok

    with tempfile.TemporaryDirectory() as tmp:
        labels = os.path.join(tmp, "labels.json")
        with open(labels, "w") as f:
            json.dump({"anomalies": [
                label(1, "spike", "A", "10:00", "10:30"),
                label(2, "spike", "B", "12:00", "12:20"),
                label(3, "error", "C", "14:00", "14:20", "ApiErrorRateInsight", "Throttling")]}, f)
        stream = os.path.join(tmp, "stream.ndjson")
        write(stream, [start("A", "10:00", "10:07:59"), start("B", "12:00", "12:01:30")])
        backfill = os.path.join(tmp, "backfill.ndjson")
        write(backfill, [start("A", "10:00", "10:28:00"), start("B", "12:01", "12:22:00"),
                         start("C", "14:00", "14:23:00", "ApiErrorRateInsight", "Throttling")])
        js = os.path.join(tmp, "score.json")
        text = run(["score", labels, stream, "--floor", backfill, "--json", js])
        with open(js) as f:
            got = json.load(f)
        spike, error = got["kinds"]["spike"], got["kinds"]["error"]
        check("spikes found", spike["found"], 2)
        check("spike lag median", spike["lag_median_min"], (7 + 59 / 60 + 1.5) / 2)
        check("spike lag p90", spike["lag_p90_min"], 7 + 59 / 60)
        check("spike floor median", spike["floor_median_min"], 5.0)
        check("spike floor p90", spike["floor_p90_min"], 8.0)
        check("errors found", error["found"], 0)
        check("error floor median", error["floor_median_min"], 3.0)
        rows = {r["id"]: r for r in got["anomalies"]}
        check("L3 floor without a stream Start", rows[3].get("floor_min"), 3.0)
        check("floor columns printed", "floor median" in text.splitlines()[0], True)

        run(["score", labels, stream, "--floor", backfill, "--lateness", "10", "--json", js])
        with open(js) as f:
            got = json.load(f)
        check("--lateness 10: spike floor p90", got["kinds"]["spike"]["floor_p90_min"], 18.0)

        text = run(["score", labels, stream, "--json", js])
        with open(js) as f:
            got = json.load(f)
        check("without --floor: no floor", "floor_p90_min" in got["kinds"]["spike"], False)
        check("without --floor: no floor columns", "floor" in text.splitlines()[0], False)
    print("test_ttd.py: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
