#!/usr/bin/env python3
"""java_numbers.py - checks the spelling and the values of the numbers in
insight NDJSON (or {"Records":[...]} files).

  java_numbers.py spelling FILE...   every average, expectedAverage, pValue
                                     and weekend ratio and sd of expectedFrom
                                     is spelled as Java's Double.toString
                                     writes it; the two durations and
                                     weekendDays are plain integers; no other
                                     number appears
  java_numbers.py compare OLD NEW    the same events with the same structure,
                                     strings and numeric values (float
                                     equality), whatever the spelling; the
                                     trailsightContext keys added since
                                     (LATER_CONTEXT_KEYS) are left out of NEW

Prints one summary line; exits 1 on the first difference, naming the file,
line and key path.
"""
import json
import math
import re
import sys

DOUBLE_KEYS = {"average", "expectedAverage", "pValue", "weekendRatio", "weekendRatioSeen",
               "dayLevelSd"}
INT_KEYS = {"insightDuration", "baselineDuration", "weekendDays"}
# trailsightContext keys newer than the golden files' spelling change:
# compare leaves them out of NEW (expectedFrom, what the expected rate came
# from, holds numbers of its own, checked by spelling)
LATER_CONTEXT_KEYS = {"decisionEventTime", "decisionWallTime", "early", "expectedFrom"}
# Java: a decimal with at least one digit after the point for
# 1e-3 <= |x| < 1e7, else d.ddd E exponent (no '+', no leading zeros)
PLAIN = re.compile(r"-?(0|[1-9][0-9]{0,6})\.[0-9]+")
SCI = re.compile(r"-?[1-9]\.[0-9]+E-?[1-9][0-9]{0,2}")
INT = re.compile(r"(0|[1-9][0-9]*)")


class Num:
    """A number as written: its text and its value."""

    def __init__(self, text):
        self.text = text
        self.value = float(text)


def load(path):
    """The events of a file, numbers kept as Num."""
    events = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    hook = dict(parse_float=Num, parse_int=Num)
    if text.lstrip().startswith('{"Records"'):
        doc = json.loads(text, **hook)
        return [(path, i + 1, e) for i, e in enumerate(doc["Records"])]
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            events.append((path, n, json.loads(line, **hook)))
    return events


def java_ok(t):
    """True if t is how Java's Double.toString spells its value."""
    v = abs(float(t))
    if t in ("0.0",):
        return True
    if PLAIN.fullmatch(t):
        frac = t.split(".")[1]
        shortest = frac == "0" or not frac.endswith("0")
        return 1e-3 <= v < 1e7 and shortest
    if SCI.fullmatch(t):
        mant = t.lstrip("-").split("E")[0]
        frac = mant.split(".")[1]
        shortest = frac == "0" or not frac.endswith("0")
        return (v < 1e-3 or v >= 1e7) and shortest
    return False


def walk(x, path, out):
    """Every number under x as (key path, key, Num)."""
    if isinstance(x, dict):
        for k, v in x.items():
            walk(v, path + [k], out)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            walk(v, path + [str(i)], out)
    elif isinstance(x, Num):
        out.append((".".join(path), path[-1] if path else "", x))


def spelling(files):
    n = 0
    for path in files:
        for fname, line, ev in load(path):
            nums = []
            walk(ev, [], nums)
            for where, key, num in nums:
                n += 1
                if key in DOUBLE_KEYS:
                    good = java_ok(num.text) and math.isfinite(num.value)
                elif key in INT_KEYS:
                    good = INT.fullmatch(num.text) is not None
                else:
                    good = False
                if not good:
                    print(f"{fname}:{line}: {where} = {num.text}: not in Java's spelling")
                    return 1
    print(f"{n} numbers in Java's spelling in {len(files)} files")
    return 0


def same(a, b, where, stats):
    """None if a and b hold the same values, else the path of a difference."""
    if isinstance(a, Num) and isinstance(b, Num):
        stats[0] += 1
        stats[1] += a.text != b.text
        return None if a.value == b.value else where
    if isinstance(a, dict) and isinstance(b, dict):
        if where.endswith(".trailsightContext"):
            # keys added to trailsightContext after the spelling changed
            b = {k: v for k, v in b.items() if k not in LATER_CONTEXT_KEYS}
        if list(a) != list(b):
            return where + " (keys)"
        for k in a:
            d = same(a[k], b[k], where + "." + k, stats)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return where + " (length)"
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, f"{where}.{i}", stats)
            if d:
                return d
        return None
    return None if type(a) is type(b) and a == b else where


def compare(old, new):
    a, b = load(old), load(new)
    if len(a) != len(b):
        print(f"{new}: {len(b)} events, {old} has {len(a)}")
        return 1
    stats = [0, 0]
    for (_, line, x), (_, _, y) in zip(a, b):
        d = same(x, y, "", stats)
        if d:
            print(f"{new}:{line}: differs from {old} at {d}")
            return 1
    print(f"{new}: {len(b)} events, {stats[0]} numbers equal in value to {old} "
          f"({stats[1]} spelled differently)")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "spelling":
        return spelling(argv[1:])
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
