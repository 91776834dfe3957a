#!/usr/bin/env python3
"""alert_formats.py - checks what the pagerduty:, slack: and eventbridge:
sinks posted (the NDJSON log of receiver.py) against the shapes their
receivers document, and against the events the same run wrote to stdout.

  alert_formats.py EVENTS.ndjson RECEIVED.ndjson ROUTING_KEY

Prints one line per failed check and exits 1 if any failed; prints the
number of checks otherwise.
"""
import datetime
import json
import re
import sys

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENVELOPE_KEYS = ["version", "id", "detail-type", "source", "account", "time", "region",
                 "resources", "detail"]
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


def iso8601(s):
    try:
        datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
        return True
    except (TypeError, ValueError):
        return False


def pagerduty(events, posts, key):
    starts = [e for e in events if e["insightDetails"]["state"] == "Start"]
    ends = [e for e in events if e["insightDetails"]["state"] == "End"]
    check(len(posts) == len(events), f"pagerduty: {len(posts)} posts for {len(events)} events")
    triggered = {}
    for i, p in enumerate(posts):
        b = p["body"]
        check(isinstance(b, dict), f"pagerduty #{i}: body is not a JSON object")
        if not isinstance(b, dict):
            continue
        check(p.get("content_type") == "application/json", f"pagerduty #{i}: content type")
        check(b.get("routing_key") == key, f"pagerduty #{i}: routing_key")
        act = b.get("event_action")
        check(act in ("trigger", "resolve"), f"pagerduty #{i}: event_action {act!r}")
        dk = b.get("dedup_key")
        check(isinstance(dk, str) and 0 < len(dk) <= 255, f"pagerduty #{i}: dedup_key")
        if act == "trigger":
            pl = b.get("payload")
            check(isinstance(pl, dict), f"pagerduty #{i}: trigger without payload")
            pl = pl if isinstance(pl, dict) else {}
            s = pl.get("summary")
            check(isinstance(s, str) and 0 < len(s) <= 1024, f"pagerduty #{i}: summary")
            check(isinstance(pl.get("source"), str) and pl["source"], f"pagerduty #{i}: source")
            check(pl.get("severity") in ("critical", "error", "warning", "info"),
                  f"pagerduty #{i}: severity {pl.get('severity')!r}")
            check(iso8601(pl.get("timestamp")), f"pagerduty #{i}: timestamp {pl.get('timestamp')!r}")
            for k in ("component", "group", "class"):
                check(k not in pl or isinstance(pl[k], str), f"pagerduty #{i}: {k} not a string")
            check(isinstance(pl.get("custom_details"), dict), f"pagerduty #{i}: custom_details")
            check(dk not in triggered, f"pagerduty #{i}: dedup_key {dk} triggered twice")
            triggered[dk] = pl
        elif act == "resolve":
            check(set(b) == {"routing_key", "event_action", "dedup_key"},
                  f"pagerduty #{i}: resolve carries {sorted(b)}")
            check(dk in triggered, f"pagerduty #{i}: resolve of {dk} with no trigger before it")
            triggered.pop(dk, None)
    got_t = [p["body"]["dedup_key"] for p in posts if p["body"].get("event_action") == "trigger"]
    got_r = [p["body"]["dedup_key"] for p in posts if p["body"].get("event_action") == "resolve"]
    check(got_t == [e["sharedEventID"] for e in starts], "pagerduty: triggers are not the Starts")
    check(got_r == [e["sharedEventID"] for e in ends], "pagerduty: resolves are not the Ends")
    for e in starts:
        pl = next((p["body"]["payload"] for p in posts
                   if p["body"].get("dedup_key") == e["sharedEventID"]
                   and p["body"].get("event_action") == "trigger"), {})
        d = e["insightDetails"]
        cd = pl.get("custom_details", {})
        check(pl.get("timestamp") == e["eventTime"], "pagerduty: timestamp is not the eventTime")
        check(cd.get("eventName") == d["eventName"] and cd.get("eventSource") == d["eventSource"],
              "pagerduty: custom_details name the wrong API")
        check(cd.get("errorCode") == d.get("errorCode"), "pagerduty: custom_details errorCode")
        check(cd.get("observedRate") == d["insightContext"]["statistics"]["insight"]["average"],
              "pagerduty: observedRate is not the insight average")
        check(pl.get("class") == d["insightType"], "pagerduty: class is not the insight type")


def slack(events, posts):
    check(len(posts) == len(events), f"slack: {len(posts)} posts for {len(events)} events")
    for i, (p, e) in enumerate(zip(posts, events)):
        b = p["body"]
        check(isinstance(b, dict) and set(b) == {"text"}, f"slack #{i}: not {{\"text\": ...}}")
        t = b.get("text") if isinstance(b, dict) else None
        check(isinstance(t, str) and t and "\n" not in t, f"slack #{i}: text is not one line")
        if not isinstance(t, str):
            continue
        d = e["insightDetails"]
        check(t.startswith(d["state"] + " of " + d["insightType"]), f"slack #{i}: {t[:60]!r}")
        for s in (d["eventSource"], d["eventName"], e["recipientAccountId"], e["awsRegion"],
                  e["sharedEventID"]):
            check(s in t, f"slack #{i}: text lacks {s!r}")


def eventbridge(events, posts):
    check(len(posts) == len(events), f"eventbridge: {len(posts)} posts for {len(events)} events")
    for i, (p, e) in enumerate(zip(posts, events)):
        b = p["body"]
        if not isinstance(b, dict):
            check(False, f"eventbridge #{i}: body is not a JSON object")
            continue
        check(list(b) == ENVELOPE_KEYS, f"eventbridge #{i}: envelope keys {list(b)}")
        check(b.get("version") == "0", f"eventbridge #{i}: version")
        check(isinstance(b.get("id"), str) and UUID.match(b["id"]), f"eventbridge #{i}: id")
        check(b.get("detail-type") == "AWS Insight via CloudTrail", f"eventbridge #{i}: detail-type")
        check(b.get("source") == "aws.cloudtrail", f"eventbridge #{i}: source")
        check(b.get("account") == e["recipientAccountId"], f"eventbridge #{i}: account")
        check(b.get("region") == e["awsRegion"], f"eventbridge #{i}: region")
        check(b.get("time") == e["eventTime"] and iso8601(b.get("time")), f"eventbridge #{i}: time")
        check(b.get("resources") == [], f"eventbridge #{i}: resources")
        want = json.loads(json.dumps(e))
        want["insightDetails"].pop("trailsightContext", None)
        check("trailsightContext" in e["insightDetails"],
              f"eventbridge #{i}: the stdout event should keep trailsightContext")
        check(b.get("detail") == want, f"eventbridge #{i}: detail is not the record without "
              "trailsightContext")
        check(list(b.get("detail", {})) == list(e), f"eventbridge #{i}: detail key order")


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    got = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    check(len(events) >= 2, "fewer than 2 events to check")
    by = lambda path: [g for g in got if g["path"] == path]
    pagerduty(events, by("/pd"), sys.argv[3])
    slack(events, by("/slack"))
    eventbridge(events, by("/eb"))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"{checks} checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
