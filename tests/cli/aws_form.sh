#!/usr/bin/env bash
# aws_form.sh - what dir: writes is AWS's Insight record exactly: every
# record validates against a strict schema written from AWS's documentation
# (tests/schema/insight.schema.json, additionalProperties false everywhere),
# numbers in Java's spelling, files named after their newest record; the
# stdout form fails that schema only because of trailsightContext;
# dir:PATH?context=1 keeps it; data-event Insights say sourceEventCategory
# "Data" and validate too.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
schema=$TS_SOURCE_DIR/tests/schema/insight.schema.json
checker=$TS_SOURCE_DIR/tests/cli/aws_form_check.py
numbers=$TS_SOURCE_DIR/tests/cli/java_numbers.py

py=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import jsonschema' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
  echo "aws_form.sh needs python3-jsonschema: run tools/install-deps.sh" >&2
  exit 1
fi

# two regions, a spike and an error burst: Start and End of one Insight in
# one file, so the file's name must be the End's minute
"$TRAILSIGHT_GEN" --out "$tmp/c" --quiet --seed 5 --days 8 --apis 12 --rate 30 --regions 2 \
  --anomalies 8 --kinds spike,error,drop --anomaly-after 7
# one run, two dir: sinks: AWS's keys only, and with the context on request
"$TRAILSIGHT" backfill -q --out "dir:$tmp/aws" --out "dir:$tmp/ctx?context=1" --out - \
  "$tmp/c/AWSLogs" > "$tmp/events.ndjson"
check "events written" test "$(wc -l < "$tmp/events.ndjson")" -ge 4
check "dir: records valid, equal to stdout without trailsightContext, files named by the newest record" \
  "$py" "$checker" dir "$schema" "$tmp/aws" "$tmp/events.ndjson"
check "dir: records carry no trailsightContext" \
  bash -c "! zcat \$(find '$tmp/aws' -name '*.json.gz') | grep -q trailsightContext"
# zcat the files to plain text for the spelling check
for f in $(find "$tmp/aws" -name '*.json.gz' | sort); do zcat "$f" > "${f%.gz}"; done
check "dir: numbers in Java's spelling" \
  "$py" "$numbers" spelling $(find "$tmp/aws" -name '*.json' | sort)
check "stdout: rejected by the strict schema for trailsightContext alone" \
  "$py" "$checker" strict "$schema" "$tmp/events.ndjson"

check "dir:?context=1: the stdout events as they are" \
  "$py" "$checker" dir "$schema" "$tmp/ctx" "$tmp/events.ndjson" --context
check "a folder named with the option left out" test -d "$tmp/ctx" -a ! -e "$tmp/ctx?context=1"
if "$TRAILSIGHT" backfill -q --out "dir:$tmp/bad?context=yes" "$tmp/c/AWSLogs" > /dev/null 2> "$tmp/bad.err"; then
  check "an unknown dir: option is refused" false
else
  check "an unknown dir: option is refused, named" grep -q "unknown option 'context=yes'" "$tmp/bad.err"
fi
# data events: the same corpus as data events, with --include-data-events
"$py" - "$tmp/c/AWSLogs" "$tmp/d/AWSLogs" <<'PY'
import gzip, json, os, sys
src, dst = sys.argv[1], sys.argv[2]
for dirpath, _, files in os.walk(src):
    for name in files:
        if "CloudTrail-Digest" in dirpath or not name.endswith(".json.gz"):
            continue
        with gzip.open(os.path.join(dirpath, name), "rt") as f:
            doc = json.load(f)
        for r in doc["Records"]:
            r["eventCategory"] = "Data"
            r["managementEvent"] = False
        out = os.path.join(dst, os.path.relpath(dirpath, src))
        os.makedirs(out, exist_ok=True)
        with gzip.open(os.path.join(out, name), "wt") as f:
            json.dump(doc, f)
PY
"$TRAILSIGHT" backfill -q --include-data-events --out "dir:$tmp/data" --out - "$tmp/d/AWSLogs" \
  > "$tmp/data.ndjson"
check "data events: Insights written" test "$(wc -l < "$tmp/data.ndjson")" -ge 2
check "data events: every event says sourceEventCategory Data" \
  test "$(jq -r .insightDetails.sourceEventCategory "$tmp/data.ndjson" | sort -u)" = Data
check "data events: dir: records valid" \
  "$py" "$checker" dir "$schema" "$tmp/data" "$tmp/data.ndjson"
"$TRAILSIGHT" backfill -q "$tmp/d/AWSLogs" > "$tmp/nodata.ndjson"
check "data events: ignored without --include-data-events" test ! -s "$tmp/nodata.ndjson"
finish
