#!/usr/bin/env python3
"""aws_form_check.py - checks trailsight's output against the strict schema
of AWS's Insight record (tests/schema/insight.schema.json).

  aws_form_check.py dir SCHEMA ROOT EVENTS [--context]
      Every record of every dir: file under ROOT validates against SCHEMA
      (with --context: fails it, only because of trailsightContext); each
      record is the event of the same eventID in EVENTS (the NDJSON of the
      stdout sink) without trailsightContext (with --context: the event
      itself); every event is in exactly one file; each file is named, and
      foldered, by the newest eventTime minute of its records.
  aws_form_check.py strict SCHEMA EVENTS
      Every event of EVENTS (stdout, with trailsightContext) fails SCHEMA,
      every error is the trailsightContext key, and without it the event
      passes.

Prints what it counted; exits 1 naming the first file, record and reason.
"""
import copy
import glob
import gzip
import json
import os
import re
import sys

import jsonschema

NAME = re.compile(r"^(\d{12})_CloudTrail-Insight_([a-z0-9-]+)_(\d{8})T(\d{4})Z_[0-9a-f]{16}\.json\.gz$")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def validator(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def load_events(path):
    events = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)
            if ev["eventID"] in events:
                fail(f"{path}:{n}: eventID {ev['eventID']} twice")
            events[ev["eventID"]] = ev
    return events


def without_context(ev):
    ev = copy.deepcopy(ev)
    ev["insightDetails"].pop("trailsightContext", None)
    return ev


def only_context_errors(v, ev):
    """True if ev fails v and every error is the trailsightContext key."""
    errors = list(v.iter_errors(ev))
    if not errors:
        return False
    for e in errors:
        if list(e.absolute_path) != ["insightDetails"] or e.validator != "additionalProperties" \
                or "'trailsightContext'" not in e.message:
            return False
    return True


def minute(t):
    return t[0:4] + t[5:7] + t[8:10] + "T" + t[11:13] + t[14:16]


def check_dir(schema, root, events_path, context):
    v = validator(schema)
    events = load_events(events_path)
    seen = set()
    files = mixed = 0
    for path in sorted(glob.glob(os.path.join(root, "AWSLogs", "*", "CloudTrail-Insight", "*",
                                              "*", "*", "*", "*.json.gz"))):
        files += 1
        m = NAME.match(os.path.basename(path))
        if not m:
            fail(f"{path}: not a CloudTrail-Insight file name")
        acct, region, ymd, hhmm = m.groups()
        parts = path.split(os.sep)
        if parts[-7] != acct or parts[-5] != region or "".join(parts[-4:-1]) != ymd:
            fail(f"{path}: folder does not match the name")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
        if list(doc) != ["Records"] or not doc["Records"]:
            fail(f"{path}: not {{\"Records\":[...]}} with records")
        recs = doc["Records"]
        for i, r in enumerate(recs):
            where = f"{path}: record {i}"
            if context:
                if not only_context_errors(v, r):
                    fail(f"{where}: does not fail the schema by trailsightContext alone")
                if v.is_valid(without_context(r)) is False:
                    fail(f"{where}: fails the schema without trailsightContext")
            else:
                errs = list(v.iter_errors(r))
                if errs:
                    fail(f"{where}: {errs[0].message} at {list(errs[0].absolute_path)}")
            ev = events.get(r["eventID"])
            if ev is None or r["eventID"] in seen:
                fail(f"{where}: eventID {r['eventID']} not in the events, or twice")
            seen.add(r["eventID"])
            want = ev if context else without_context(ev)
            if json.dumps(r) != json.dumps(want):
                fail(f"{where}: not the event {r['eventID']} of {events_path}")
            if r["recipientAccountId"] != acct or r["awsRegion"] != region:
                fail(f"{where}: in the file of another account or Region")
        times = sorted(minute(r["eventTime"]) for r in recs)
        if ymd + "T" + hhmm != times[-1]:
            fail(f"{path}: named {ymd}T{hhmm}, its newest record is {times[-1]}")
        mixed += times[0] != times[-1]
    if seen != set(events):
        fail(f"{len(set(events) - seen)} events of {events_path} in no file")
    what = "fail the schema only by trailsightContext" if context else "valid"
    print(f"{len(seen)} records in {files} files, all {what}; every file named by its "
          f"newest record ({mixed} with records of different minutes)")
    if mixed == 0:
        fail("no file holds records of different minutes: the naming is not tested")


def check_strict(schema, events_path):
    v = validator(schema)
    events = load_events(events_path)
    for eid, ev in events.items():
        if "trailsightContext" not in ev["insightDetails"]:
            fail(f"{events_path}: {eid} has no trailsightContext")
        if not only_context_errors(v, ev):
            fail(f"{events_path}: {eid} does not fail the schema by trailsightContext alone")
        errs = list(v.iter_errors(without_context(ev)))
        if errs:
            fail(f"{events_path}: {eid} without trailsightContext: {errs[0].message}")
    print(f"{len(events)} events with trailsightContext rejected by the strict schema "
          f"for that key alone, accepted without it")


def main(argv):
    if len(argv) in (4, 5) and argv[0] == "dir" and (len(argv) == 4 or argv[4] == "--context"):
        check_dir(argv[1], argv[2], argv[3], len(argv) == 5)
        return 0
    if len(argv) == 3 and argv[0] == "strict":
        check_strict(argv[1], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
