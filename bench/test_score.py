#!/usr/bin/env python3
"""test_score.py - checks bench/score.py on a hand-made case whose score is
worked out by hand below.

  python3 bench/test_score.py        (standard library only; exit 0 = pass)

Corpus 1 (labels start 2026-01-05, 9 days) has four labels and eleven Starts:

  label L1 spike A 10:00-10:20   S1  A 10:02-10:15  matched, delay +2
                                 S5  A 10:24-10:30  matched within the 5 min
                                                    slack after: a duplicate
                                 S6  A 10:26-10:28  after the slack: FP up
  label L2 drop  B 12:00-13:00   S9  B 11:50-12:10  down; its episode overlaps
                                                    the label: matched, delay
                                                    -10 (FP with --match start)
  label L3 error C/X 14:00-14:30 S3  C/Y error      wrong errorCode: FP error,
                                                    L3 missed
  label L4 ramp  E 15:00-15:40   S7  E 14:56, open  within the slack before:
                                                    matched, delay -4
                                 S8  E 14:50-14:52  ends before 14:55: FP up
  hourly_cron D at :17           S4  D 16:17 call   FP up on hourly_cron
  chronic_errors F [Z]           S10 F [Z] error    FP on chronic_errors
                                 S11 F call         FP up, not regular (the
                                                    chronic kind is errors)
  rare H                         (nothing)
                                 S12 G 18:00 down   FP down

Corpus 2 uses the same account and series names: one label, L5 spike A
10:00-10:20, and no Starts; corpus 1's Starts must not match it.

Totals (overlap, slack 5): labels 5, found 3 (L1, L2, L4), Starts 11,
matched 4 (S1, S5, S9, S7) with 1 duplicate, FP 7; precision 4/11,
recall 3/5; delays [+2, -10, -4]: median -4, p90 (nearest rank) +2.
Onset errors (the delays without sign) [2, 10, 4]: median 4, p90 10, max
10; spikes 2, drops 10, ramps 4; spikes, drops and errors pooled [2, 10]:
median 6, p90 10, none within 1 minute, one within 3.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
import contextlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no bench/__pycache__
import score  # noqa: E402

ACCT, REGION = "111122223333", "us-east-1"
DAY = "2026-01-12T"


def api(letter):
    return {"account": ACCT, "region": REGION, "eventSource": "svc%s.amazonaws.com" % letter,
            "eventName": "Op%s" % letter}


def label(i, kind, letter, start, end, code=None):
    itype = "ApiErrorRateInsight" if kind == "error" else "ApiCallRateInsight"
    d = {"id": i, "kind": kind, "insightType": itype, "errorCode": code,
         "start": DAY + start + ":00Z", "end": DAY + end + ":00Z", "factor": 5, "baseRate": 2}
    d.update(api(letter))
    return d


def labels_doc(anomalies, regular):
    return {"generator": "trailsight-gen", "seed": 9, "start": "2026-01-05T00:00:00Z",
            "days": 9, "anomalies": anomalies, "regular": regular}


def events(n, letter, start, end=None, code=None, observed=20, expected=2):
    """A Start (and an End when end is given) as trailsight writes them."""
    itype = "ApiErrorRateInsight" if code else "ApiCallRateInsight"
    out = []
    for state, t in (("Start", start), ("End", end)):
        if t is None:
            continue
        det = {"state": state, "eventSource": api(letter)["eventSource"],
               "eventName": api(letter)["eventName"], "insightType": itype}
        if code:
            det["errorCode"] = code
        det["sourceEventCategory"] = "Management"
        det["insightContext"] = {"statistics": {"baseline": {"average": expected},
                                                "insight": {"average": observed},
                                                "insightDuration": 1,
                                                "baselineDuration": 10080}}
        det["trailsightContext"] = {"model": "t", "expectedAverage": expected,
                                    "pValue": 1e-9}
        out.append({"eventVersion": "1.09", "eventTime": DAY + t + ":00Z",
                    "awsRegion": REGION, "eventID": "e%d%s" % (n, state),
                    "eventType": "AwsCloudTrailInsight", "recipientAccountId": ACCT,
                    "sharedEventID": "s%d" % n, "insightDetails": det,
                    "eventCategory": "Insight"})
    return out


class ScoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        reg = [dict(api("D"), kind="hourly_cron", minute=17, calls=100),
               dict(api("F"), kind="chronic_errors", errorCode="Z", errorFraction=0.2),
               dict(api("H"), kind="rare", perDay=3)]
        anomalies = [label(1, "spike", "A", "10:00", "10:20"),
                     label(2, "drop", "B", "12:00", "13:00"),
                     label(3, "error", "C", "14:00", "14:30", code="X"),
                     label(4, "ramp", "E", "15:00", "15:40")]
        evs = (events(1, "A", "10:02", "10:15") + events(5, "A", "10:24", "10:30")
               + events(6, "A", "10:26", "10:28")
               + events(9, "B", "11:50", "12:10", observed=0, expected=20)
               + events(3, "C", "14:02", "14:20", code="Y")
               + events(7, "E", "14:56") + events(8, "E", "14:50", "14:52")
               + events(4, "D", "16:17", "16:18")
               + events(10, "F", "16:30", "16:40", code="Z") + events(11, "F", "16:31", "16:40")
               + events(12, "G", "18:00", "18:30", observed=0, expected=30))
        evs.sort(key=lambda e: e["eventTime"])
        os.makedirs(os.path.join(d, "c1"))
        os.makedirs(os.path.join(d, "c2"))
        self.files = []
        for sub, doc, lines in (("c1", labels_doc(anomalies, reg), evs),
                                ("c2", labels_doc([label(1, "spike", "A", "10:00", "10:20")],
                                                  []), [])):
            ins = os.path.join(d, sub, "insights.ndjson")
            lab = os.path.join(d, sub, "labels.json")
            with open(ins, "w") as f:
                for e in lines:
                    f.write(json.dumps(e) + "\n")
            with open(lab, "w") as f:
                json.dump(doc, f)
            self.files += [ins, lab]

    def tearDown(self):
        self.tmp.cleanup()

    def run_score(self, *opts):
        out = os.path.join(self.tmp.name, "out.json")
        with contextlib.redirect_stdout(io.StringIO()) as text:
            rc = score.main(list(opts) + ["--json", out] + self.files)
        self.assertEqual(rc, 0)
        with open(out) as f:
            doc = json.load(f)
        doc["text"] = text.getvalue()
        doc["by"] = {g["group"]: g for g in doc["groups"]}
        doc["reg"] = {r["kind"]: r for r in doc["regular"]}
        return doc

    def test_overlap_default(self):
        doc = self.run_score()
        a = doc["by"]["all"]
        self.assertEqual((a["labels"], a["found"], a["missed"]), (5, 3, 2))
        self.assertEqual((a["starts"], a["matched"], a["dup"], a["fp"]), (11, 4, 1, 7))
        self.assertAlmostEqual(a["precision"], 4 / 11)
        self.assertAlmostEqual(a["recall"], 3 / 5)
        self.assertAlmostEqual(a["f1"], 2 * (4 / 11) * 0.6 / (4 / 11 + 0.6))
        self.assertEqual((a["delay_median"], a["delay_p90"]), (-4, 2))
        self.assertEqual((a["onset_median"], a["onset_p90"], a["onset_max"]), (4, 10, 10))
        c = doc["by"]["ApiCallRateInsight"]
        self.assertEqual((c["labels"], c["found"], c["starts"], c["matched"], c["fp"]),
                         (4, 3, 9, 4, 5))
        e = doc["by"]["ApiErrorRateInsight"]
        self.assertEqual((e["labels"], e["found"], e["starts"], e["fp"]), (1, 0, 2, 2))
        self.assertEqual((e["precision"], e["recall"], e["f1"]), (0, 0, 0))
        # kinds: up FPs (S6, S8, S4, S11) count against spike and ramp
        s = doc["by"]["spike"]
        self.assertEqual((s["labels"], s["found"], s["matched"], s["fp"]), (2, 1, 2, 4))
        self.assertAlmostEqual(s["precision"], 2 / 6)
        self.assertEqual(s["delay_median"], 2)
        r = doc["by"]["ramp"]
        self.assertEqual((r["found"], r["matched"], r["fp"], r["delay_median"]), (1, 1, 4, -4))
        dr = doc["by"]["drop"]
        self.assertEqual((dr["found"], dr["matched"], dr["fp"], dr["delay_median"]),
                         (1, 1, 1, -10))
        self.assertEqual(doc["by"]["error"]["fp"], 2)
        # every Start is on Monday 2026-01-12
        self.assertEqual(doc["fp_days"], {"weekday": {"up": 4, "down": 1, "error": 2},
                                          "weekend": {"up": 0, "down": 0, "error": 0}})
        self.assertIn("false positives by day (UTC): weekdays 7 (up 4, down 1, error 2),"
                      " weekends 0 (up 0, down 0, error 0)", doc["text"])
        # onset error: |delay| per kind, and spikes, drops and errors pooled
        self.assertEqual((s["onset_median"], s["onset_p90"], s["onset_max"]), (2, 2, 2))
        self.assertEqual((dr["onset_median"], dr["onset_max"]), (10, 10))
        self.assertEqual((r["onset_median"], r["onset_max"]), (4, 4))
        self.assertIsNone(doc["by"]["error"]["onset_median"])
        onset = {o["group"]: o for o in doc["onset"]}
        self.assertEqual(sorted(onset), ["drop", "error", "ramp", "spike", "spike+drop+error"])
        pool = onset["spike+drop+error"]
        self.assertEqual((pool["found"], pool["median"], pool["p90"], pool["max"],
                          pool["within1"], pool["within3"]), (2, 6, 10, 10, 0, 1))
        self.assertEqual(onset["error"]["found"], 0)
        self.assertRegex(doc["text"], r"\nspike\+drop\+error +2 +6 +10 +10 +0 +1\n")
        self.assertEqual(doc["reg"]["hourly_cron"], {"kind": "hourly_cron", "series": 1,
                                                     "fp": 1, "series_with_fp": 1})
        self.assertEqual(doc["reg"]["chronic_errors"]["fp"], 1)
        self.assertEqual(doc["reg"]["rare"], {"kind": "rare", "series": 1, "fp": 0,
                                              "series_with_fp": 0})
        self.assertEqual(doc["reg"]["daily_cron"]["series"], 0)
        self.assertEqual(doc["reg"]["other"]["fp"], 5)
        # corpus 2's label is missed; corpus 1's L3 too
        missed = sorted((x["corpus"], x["label"]["id"]) for x in doc["labels"] if not x["found"])
        self.assertEqual(missed, [("c1", 3), ("c2", 1)])
        self.assertIn("hourly_cron at :17, Start +0 min from it", doc["text"])
        self.assertIn("Starts at +2, +24", doc["text"])

    def test_match_start(self):
        doc = self.run_score("--match", "start")
        a = doc["by"]["all"]
        self.assertEqual((a["found"], a["matched"], a["fp"]), (2, 3, 8))
        self.assertEqual(doc["by"]["drop"]["precision"], 0)
        self.assertEqual(doc["reg"]["other"]["fp"], 6)

    def test_no_slack_and_dups(self):
        doc = self.run_score("--slack", "0")
        a = doc["by"]["all"]
        # S5 (10:24) falls outside L1 now; S7's open episode still overlaps L4
        self.assertEqual((a["found"], a["matched"], a["dup"], a["fp"]), (3, 3, 0, 8))
        doc = self.run_score("--dups-are-fp")
        self.assertAlmostEqual(doc["by"]["all"]["precision"], 3 / 11)

    def test_row_and_csv(self):
        row = os.path.join(self.tmp.name, "rows.csv")
        csvf = os.path.join(self.tmp.name, "groups.csv")
        for p in ("1e-7", "1e-9"):
            self.assertEqual(score.main(["-q", "--row", row, "--csv", csvf, "--tag",
                                         "p_start=" + p] + self.files), 0)
        with open(row) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertTrue(lines[0].startswith("p_start,corpora,labels,starts,found,fp,"))
        self.assertTrue(lines[2].startswith("1e-9,2,5,11,3,7,1,"))
        self.assertIn("fp_regular", lines[0])
        self.assertEqual(lines[1].split(",")[-1], "2")
        with open(csvf) as f:
            text = f.read()
        self.assertIn("1e-9,kind,spike,2,1,1,6,2,1,4,0.333333,0.5,", text)
        # the onset columns close each group's row: spike median, p90, max 2
        self.assertIn("1e-9,kind,spike,", text)
        spike = [x for x in text.splitlines() if x.startswith("1e-9,kind,spike,")][0]
        self.assertTrue(spike.endswith(",2,2,2"), spike)
        self.assertIn("spike_onset_median", lines[0])

    def test_weekend(self):
        sat = score.parse_minute("2026-01-17T00:00Z", "t")
        self.assertEqual([score.is_weekend(m) for m in (sat - 1, sat, sat + 2 * 1440 - 1,
                                                        sat + 2 * 1440)],
                         [False, True, True, False])

    def test_bad_input(self):
        bad = os.path.join(self.tmp.name, "bad.ndjson")
        with open(bad, "w") as f:
            f.write("{\"eventTime\": \"x\"}\n")
        p = subprocess.run([sys.executable, os.path.join(HERE, "score.py"), bad,
                            self.files[1]], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad.ndjson:1: not an insight event", p.stderr)
        p = subprocess.run([sys.executable, os.path.join(HERE, "score.py"), self.files[0]],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("expected pairs", p.stderr)


if __name__ == "__main__":
    unittest.main()
