#!/usr/bin/env python3
"""sweep_report.py - the Markdown report of a sensitivity sweep.

  bench/sweep_report.py [--base PROFILE] [--set NAME] [--slack MIN] SWEEP.csv OUT.md

SWEEP.csv is what bench/sweep.sh builds with `score.py --row`: one row per
setting, tagged param, value, p_start, min_ratio, min_count, min_errors,
seconds. Writes a table of every setting and the settings that look best:
the highest F1 (ties listed), the highest F1 with no false alarm on regular
series, the most sensitive setting that keeps precision >= 0.9 and the
quietest that keeps recall >= 0.9. Standard library only.
"""
import argparse
import csv
import os
import sys


def num(row, key):
    v = row.get(key, "")
    try:
        return float(v)
    except ValueError:
        return None


def f3(v):
    return "-" if v is None else "%.3f" % v


def fd(v):
    if v is None:
        return "-"
    return "%d" % v if float(v).is_integer() else "%.1f" % v


def profile_values(path):
    vals = {}
    if not path:
        return vals
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                vals[k.strip()] = v.strip()
    return vals


def same(a, b):
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return a == b


def label(row):
    return "%s = %s" % (row["param"], row["value"])


def main():
    ap = argparse.ArgumentParser(description="Markdown report of a bench/sweep.sh CSV.")
    ap.add_argument("--base", help="the base profile the sweep started from")
    ap.add_argument("--set", default="?", help="the corpus set swept on")
    ap.add_argument("--slack", default="5", help="label slack used, minutes")
    ap.add_argument("--runs", help="the sweep's runs folder (RUNS/<key>-<value>/sweep.profile)")
    ap.add_argument("--profiles", help="write the chosen default, sensitive and quiet "
                    "profiles to this folder")
    ap.add_argument("csv")
    ap.add_argument("md")
    a = ap.parse_args()
    try:
        with open(a.csv, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        print("sweep_report.py: %s: %s" % (a.csv, e.strerror), file=sys.stderr)
        return 1
    need = ("param", "value", "precision", "recall", "f1", "fp_regular")
    if not rows or any(k not in rows[0] for k in need):
        print("sweep_report.py: %s has no sweep rows (columns %s needed)" % (a.csv, need),
              file=sys.stderr)
        return 1
    base = profile_values(a.base)
    for r in rows:
        r["_base"] = r["param"] in base and same(r["value"], base[r["param"]])

    out = []
    w = out.append
    w("# Sensitivity sweep\n")
    w("Written by `bench/sweep.sh` (do not edit): each row is the base profile `%s` "
      "with one key changed, run with `trailsight backfill --model` on the `%s` "
      "corpora (%s labels) and scored by `bench/score.py` (slack %s min). "
      "P, R, F1 pool all corpora; *call* and *err* are ApiCallRateInsight and "
      "ApiErrorRateInsight; *spike R* .. *ramp R* the recall per anomaly kind; *FP* "
      "Starts matching no label, *reg* those on regular series (crons, chronic errors, "
      "rare APIs; must be 0); delays in minutes, Start minus labelled start.\n"
      % (a.base or "?", a.set, rows[0].get("labels", "?"), a.slack))
    cols = ("setting", "P", "R", "F1", "call F1", "err F1", "spike R", "drop R",
            "error R", "ramp R", "Starts", "FP", "reg", "dup", "delay med", "delay p90", "s")
    w("| " + " | ".join(cols) + " |")
    w("|" + "|".join("---" if c == "setting" else "---:" for c in cols) + "|")
    for r in rows:
        w("| %s%s | %s |" % (label(r), " (base)" if r["_base"] else "", " | ".join([
            f3(num(r, "precision")), f3(num(r, "recall")), f3(num(r, "f1")),
            f3(num(r, "call_f1")), f3(num(r, "err_f1")), f3(num(r, "spike_recall")),
            f3(num(r, "drop_recall")), f3(num(r, "error_recall")), f3(num(r, "ramp_recall")),
            r.get("starts", ""), r.get("fp", ""), r.get("fp_regular", ""), r.get("dup", ""),
            fd(num(r, "delay_median")), fd(num(r, "delay_p90")), r.get("seconds", "")])))

    def key_f1(r):
        # higher F1, then fewer regular false alarms, then shorter p90 delay
        return (num(r, "f1") or 0, -(num(r, "fp_regular") or 0),
                -(num(r, "delay_p90") if num(r, "delay_p90") is not None else 1e9))

    w("\n## Settings that look best\n")
    best = max(rows, key=key_f1)
    ties = [r for r in rows if key_f1(r) == key_f1(best)]
    w("- Highest F1: %s (F1 %s, P %s, R %s, %s FP, %s on regular series, delay %s/%s min)"
      % (", ".join("`%s`" % label(r) for r in ties), f3(num(best, "f1")),
         f3(num(best, "precision")), f3(num(best, "recall")), best.get("fp"),
         best.get("fp_regular"), fd(num(best, "delay_median")), fd(num(best, "delay_p90"))))
    clean = [r for r in rows if num(r, "fp_regular") == 0]
    if clean:
        b = max(clean, key=key_f1)
        w("- Highest F1 with no false alarm on regular series: `%s` (F1 %s)"
          % (label(b), f3(num(b, "f1"))))
    else:
        w("- Every setting fired on regular series.")
    ps = [r for r in rows if r["param"] == "p_start" and num(r, "f1") is not None]
    if ps:
        top = max(num(r, "f1") for r in ps)
        flat = [num(r, "value") for r in ps if num(r, "f1") >= top - 0.01]
        w("- F1 within 0.01 of its best (%s) for p_start from %g to %g: choose from the "
          "middle of that range, not its edge" % (f3(top), min(flat), max(flat)))
    sens = [r for r in rows if (num(r, "precision") or 0) >= 0.9]
    if sens:
        b = max(sens, key=lambda r: (num(r, "recall") or 0, num(r, "precision") or 0))
        w("- Highest recall with precision >= 0.9 (a `sensitive` candidate; ties: the "
          "higher precision): `%s` (R %s, P %s)"
          % (label(b), f3(num(b, "recall")), f3(num(b, "precision"))))
    quiet = [r for r in rows if (num(r, "recall") or 0) >= 0.9]
    if quiet:
        b = max(quiet, key=lambda r: (num(r, "precision") or 0, num(r, "recall") or 0))
        w("- Quietest with recall >= 0.9 (a `quiet` candidate): `%s` (P %s, R %s, %s FP)"
          % (label(b), f3(num(b, "precision")), f3(num(b, "recall")), b.get("fp")))
    below = [label(r) for r in rows
             if any(num(r, k) is not None and num(r, k) < 0.95 for k in ("call_f1", "err_f1"))]
    if len(below) == len(rows):
        w("- Every setting leaves an insight type below the F1 target of 0.95")
    else:
        w("- Settings with an insight type below the F1 target of 0.95: %s"
          % (", ".join("`%s`" % x for x in below) if below else "none"))
    # the choices: default = highest F1 (then fewer regular false alarms,
    # then shorter p90 delay, then the base); sensitive = the loosest
    # p_start keeping precision >= 0.9; quiet = the strictest p_start
    # keeping recall >= 0.95
    chosen = {}
    chosen["default"] = max(rows, key=lambda r: key_f1(r) + (1 if r["_base"] else 0,))
    ps_ok = [r for r in ps if (num(r, "precision") or 0) >= 0.9]
    if ps_ok:
        chosen["sensitive"] = max(ps_ok, key=lambda r: num(r, "value"))
    ps_ok = [r for r in ps if (num(r, "recall") or 0) >= 0.95]
    if ps_ok:
        chosen["quiet"] = min(ps_ok, key=lambda r: num(r, "value"))
    w("\n## Chosen profiles\n")
    w("| profile | rule | setting | P | R | F1 | reg FP | delay p90 |")
    w("|---|---|---|---:|---:|---:|---:|---:|")
    rules = {"default": "highest F1, then fewest false alarms on regular series, then "
                        "shortest p90 delay",
             "sensitive": "loosest p_start with precision >= 0.9",
             "quiet": "strictest p_start with recall >= 0.95"}
    for name in ("default", "sensitive", "quiet"):
        r = chosen.get(name)
        if r is None:
            w("| %s | %s | (none qualifies) | | | | | |" % (name, rules[name]))
            continue
        w("| `%s` | %s | `%s` | %s | %s | %s | %s | %s |"
          % (name, rules[name], label(r), f3(num(r, "precision")), f3(num(r, "recall")),
             f3(num(r, "f1")), r.get("fp_regular"), fd(num(r, "delay_p90"))))
    if a.profiles and a.runs:
        os.makedirs(a.profiles, exist_ok=True)
        for name, r in chosen.items():
            src = os.path.join(a.runs, "%s-%s" % (r["param"], r["value"]), "sweep.profile")
            try:
                with open(src, encoding="utf-8") as f:
                    lines = [x for x in f.read().splitlines()
                             if not x.startswith("# written by") and not x.startswith("name =")]
                # drop the base profile's own header (its leading comment lines)
                while lines and (lines[0].startswith("#") or not lines[0].strip()):
                    lines.pop(0)
            except OSError as e:
                print("sweep_report.py: %s: %s" % (src, e.strerror), file=sys.stderr)
                return 1
            head = ["# %s - chosen by bench/sweep.sh on the %s corpora: %s." % (name, a.set,
                                                                                rules[name]),
                    "# Setting: %s (P %s, R %s, F1 %s on those corpora)."
                    % (label(r), f3(num(r, "precision")), f3(num(r, "recall")),
                       f3(num(r, "f1"))),
                    "name = %s" % name]
            with open(os.path.join(a.profiles, name + ".profile"), "w", encoding="utf-8") as f:
                f.write("\n".join(head + lines) + "\n")
        w("\nThe chosen profiles are in `%s`; `models/` holds them after a check on the "
          "held-out seeds (`bench/quality.sh --model PATH`)." % a.profiles)
    w("\nThese are tuning corpora: confirm a choice on the held-out seeds with "
      "`bench/quality.sh --model PATH` before writing it to `models/`.\n")
    try:
        with open(a.md, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
    except OSError as e:
        print("sweep_report.py: cannot write %s: %s" % (a.md, e.strerror), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
