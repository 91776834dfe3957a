#!/usr/bin/env python3
"""ttdbound.py - how early a rise can be told from noise at all, on a
labelled generated corpus: a bound for time to detect (bench/ttd.sh).

  ttdbound.py CORPUS... [--truth FILE]... [--score FILE]... [--window W]
              [--horizon K] [--json FILE]

CORPUS is a trailsight-gen folder (AWSLogs/, labels.json). Each needs the
generator's truth: `trailsight-gen --truth FILE` with the corpus's own
options (default CORPUS/truth.json; --truth, repeated, gives them in the
order of the corpora). Counts come from the records themselves, per
series (account, Region, eventSource, eventName) and eventTime minute:
write calls (the call rate) and, per errorCode, failed calls of all calls
(the error rate).

An oracle that knows every series' true expectation (the generator's
rates, cron runs included; the baseline of an anomaly's series without
its anomaly) judges each window of 1 to W minutes (default 32, the
detector's ring) by its tail probability: calls P(Poisson(L) >= S), L
the window's expected calls, S its calls; errors P(Binomial(N, q) >= K),
N the window's calls (read and write), K its failures with the code, q
the code's true share (0 for a code the series never fails with: its
first failure is then proof). A window at or below its expectation is no
evidence of a rise (p = 1). No charge for the choice of window.

  evidence of an anomaly by k minutes (spikes on their call rate, error
  bursts on their code): the smallest p of the windows ending in the
  minutes onset .. onset+k-1 (they may begin before the onset);
  normal: the smallest p of a window that holds no minute of any
  labelled anomaly on its series, ending at a minute with a count
  (a window ending at an empty minute is weaker than the same window
  without it): ending on the days the detector judges (from the labels'
  anomalyAfter, its warm-up with the default profile), and ending on any
  day, both printed; for drifted jobs (--job-drift, --job-size-var) the
  call rate of the job's series is left out.

An anomaly whose evidence by k minutes is not below the smallest normal p
cannot be decided by onset+k by any threshold on this statistic that
makes no false alarm on this corpus. Its oracle lag is the first k whose
evidence is below it (at most --horizon, default 30). Prints, per kind,
the anomalies, how many are undecidable by 3 and by 6 minutes, and the
oracle lag's median and 90th percentile (nearest rank, as ttd.py score);
with several corpora, also all of them against the smallest normal p of
any. --score, repeated in the order of the corpora: ttd.py score's --json
of each (bench/ttd.sh's NAME.stream.score.json): each anomaly's lag in the
stream beside its oracle lag, and which are late against the bound (more
than a minute after their oracle lag). Standard library only.
"""
import gzip
import json
import math
import os
import sys
from datetime import datetime, timezone

KINDS = ("spike", "error")


def secs(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def nearest_rank(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q * len(xs)) - 1)]


def log_pois_sf(s, lam):
    """log P(Poisson(lam) >= s), for s > lam (0 otherwise: no rise)."""
    if s <= lam:
        return 0.0
    if lam <= 0:
        return -math.inf
    lt = -lam + s * math.log(lam) - math.lgamma(s + 1)
    tot, term, k = 1.0, 1.0, s
    while True:
        k += 1
        term *= lam / k
        tot += term
        if term < 1e-17 * tot:
            break
    return min(0.0, lt + math.log(tot))


def log_binom_sf(k, n, q):
    """log P(Binomial(n, q) >= k), for k > n q (0 otherwise)."""
    if k <= n * q:
        return 0.0
    if q <= 0:
        return -math.inf
    if q >= 1:
        return 0.0
    lt = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
          + k * math.log(q) + (n - k) * math.log1p(-q))
    r = q / (1 - q)
    tot, term, j = 1.0, 1.0, k
    while j < n:
        term *= (n - j) / (j + 1) * r
        j += 1
        tot += term
        if term < 1e-17 * tot:
            break
    return min(0.0, lt + math.log(tot))


def model_rate(sr, start_day, m):
    """The generator's expected calls of series sr in minute m (its
    api_rate plus undrifted cron runs)."""
    h = (m % 1440) / 60.0 + 1.0 / 120.0
    c = 0.5 * (1.0 + math.cos(2.0 * math.pi * (h - sr["peak"]) / 24.0))
    f = (sr["night"] + (1.0 - sr["night"]) * c) * sr["norm"]
    if (start_day + m // 1440 + 3) % 7 >= 5:
        if sr.get("weeks"):
            f *= sr["weeks"][(start_day + 3 + m // 1440) // 7 - (start_day + 3) // 7]
        else:
            f *= sr["weekend"]
    lam = sr["base"] * f
    if sr["role"] == "hourly" and m % 60 == sr["cronMinute"]:
        lam += sr["cronCalls"]
    elif sr["role"] == "daily":
        mod = m % 1440
        if sr["dailyMinute"] <= mod < sr["dailyMinute"] + sr["dailyLen"]:
            lam += sr["dailyCalls"] / sr["dailyLen"]
    return lam


def read_counts(corpus, t0, nmin):
    """calls[key][m] (write calls), alls[key][m] (all calls),
    errs[(key, code)][m] from the corpus's log files."""
    calls, alls, errs = {}, {}, {}
    days = {}
    for root, dirs, names in os.walk(os.path.join(corpus, "AWSLogs")):
        dirs[:] = sorted(d for d in dirs if d != "CloudTrail-Digest")
        for n in sorted(names):
            if not (n.endswith(".json.gz") and "_CloudTrail_" in n):
                continue
            with gzip.open(os.path.join(root, n), "rt", encoding="utf-8") as f:
                recs = json.load(f)["Records"]
            for r in recs:
                t = r["eventTime"]
                d = days.get(t[:10])
                if d is None:
                    d = days[t[:10]] = round((secs(t[:10] + "T00:00:00Z") - t0) / 60)
                m = d + int(t[11:13]) * 60 + int(t[14:16])
                if not 0 <= m < nmin:
                    continue
                key = (r["recipientAccountId"], r["awsRegion"], r["eventSource"], r["eventName"])
                a = alls.get(key)
                if a is None:
                    a = alls[key] = [0] * nmin
                a[m] += 1
                ro = r.get("readOnly")
                if not (ro is True or ro == "true"):
                    c = calls.get(key)
                    if c is None:
                        c = calls[key] = [0] * nmin
                    c[m] += 1
                code = r.get("errorCode")
                if code:
                    e = errs.get((key, code))
                    if e is None:
                        e = errs[(key, code)] = [0] * nmin
                    e[m] += 1
    return calls, alls, errs


def window_logp(kind, x, lam_or_n, q, lo, b, win):
    """Smallest log p over the windows [a, b], a >= lo, of at most win
    minutes. kind "calls": x counts, lam_or_n expectations; "errors": x
    failures, lam_or_n calls, q the share."""
    best = 0.0
    s = 0
    t = 0.0
    for a in range(b, max(lo, b - win + 1) - 1, -1):
        s += x[a]
        t += lam_or_n[a]
        if kind == "calls":
            lp = log_pois_sf(s, t)
        else:
            lp = log_binom_sf(s, int(t), q)
        if lp < best:
            best = lp
    return best


def normal_scan(kind, x, lam_or_n, q, clean, win, cut):
    """Per end minute b with x[b] > 0 and clean[b]: the smallest log p of
    the clean windows ending there, kept where below cut; returns
    [(logp, b)]. A window's tail is computed only when its term at S
    (a lower bound of the tail) is below cut."""
    out = []
    n = len(x)
    for b in range(n):
        if not x[b] or not clean[b]:
            continue
        best = 0.0
        s = 0
        t = 0.0
        a = b
        stop = b - win
        while a > stop and a >= 0 and clean[a]:
            s += x[a]
            t += lam_or_n[a]
            a -= 1
            if kind == "calls":
                if s <= t:
                    continue
                if t > 0 and -t + s * math.log(t) - math.lgamma(s + 1) > cut:
                    continue
                lp = log_pois_sf(s, t)
            else:
                nn = int(t)
                if s <= nn * q:
                    continue
                if q > 0 and (math.lgamma(nn + 1) - math.lgamma(s + 1) - math.lgamma(nn - s + 1)
                              + s * math.log(q) + (nn - s) * math.log1p(-q)) > cut:
                    continue
                lp = log_binom_sf(s, nn, q)
            if lp < best:
                best = lp
        if best < cut:
            out.append((best, b))
    return out


def fmt_p(lp):
    if lp == -math.inf:
        return "0"
    if lp >= 0:
        return "1"
    e = lp / math.log(10)
    ex = math.floor(e)
    return f"{10 ** (e - ex):.1f}e{ex}"


def analyse(corpus, truth_path, win, horizon):
    with open(os.path.join(corpus, "labels.json")) as f:
        labels = json.load(f)
    with open(truth_path) as f:
        truth = json.load(f)
    if truth.get("seed") != labels.get("seed") or truth.get("start") != labels.get("start"):
        raise SystemExit(f"ttdbound.py: {truth_path} is not the truth of {corpus}")
    t0 = secs(labels["start"])
    nmin = labels["days"] * 1440
    sday = truth["startDay"]
    series = {(s["account"], s["region"], s["eventSource"], s["eventName"]): s
              for s in truth["series"]}
    calls, alls, errs = read_counts(corpus, t0, nmin)
    zeros = [0] * nmin
    lam = {k: [model_rate(sr, sday, m) for m in range(nmin)]
           for k, sr in series.items() if not sr["readOnly"]}
    # minutes of each series that no labelled anomaly touches
    dirty = {}
    for an in labels["anomalies"]:
        key = (an["account"], an["region"], an["eventSource"], an["eventName"])
        b = round((secs(an.get("rampBegin", an["start"])) - t0) / 60)
        e = round((secs(an["end"]) - t0) / 60)
        dirty.setdefault(key, []).append((b, e))

    def clean_of(key):
        cl = [True] * nmin
        for b, e in dirty.get(key, ()):
            for m in range(max(0, b), min(nmin, e)):
                cl[m] = False
        return cl

    # evidence of each spike and error burst by k = 1..horizon minutes
    rows = []
    for an in labels["anomalies"]:
        if an["kind"] not in KINDS:
            continue
        key = (an["account"], an["region"], an["eventSource"], an["eventName"])
        o = round((secs(an["start"]) - t0) / 60)
        ev = []
        best = 0.0
        for k in range(1, horizon + 1):
            b = o + k - 1
            if b < nmin:
                if an["kind"] == "spike":
                    lp = window_logp("calls", calls.get(key, zeros), lam[key], 0, 0, b, win)
                else:
                    q = series[key]["errors"].get(an["errorCode"], 0.0)
                    lp = window_logp("errors", errs.get((key, an["errorCode"]), zeros),
                                     alls.get(key, zeros), q, 0, b, win)
                best = min(best, lp)
            ev.append(best)
        rows.append({"corpus": os.path.basename(os.path.normpath(corpus)), "id": an["id"],
                     "kind": an["kind"], "eventSource": an["eventSource"],
                     "eventName": an["eventName"], "errorCode": an.get("errorCode"),
                     "start": an["start"], "factor": an["factor"], "baseRate": an["baseRate"],
                     "q": (series[key]["errors"].get(an["errorCode"], 0.0)
                           if an["kind"] == "error" else None),
                     "log10_p": [lp / math.log(10) for lp in ev], "_ev": ev})
    # the normal minutes: kept where below the weakest evidence at 6 (or
    # 10^-3), so that every comparison below is exact
    cut = math.log(1e-3)
    for r in rows:
        cut = max(cut, r["_ev"][min(6, horizon) - 1] + 1e-9)
    normal = {"spike": [], "error": []}
    skipped = 0
    for key, sr in series.items():
        cl = clean_of(key)
        if not sr["readOnly"]:
            if truth.get("drifted") and sr["role"] in ("hourly", "daily"):
                skipped += 1
            else:
                for lp, b in normal_scan("calls", calls.get(key, zeros), lam[key], 0, cl, win,
                                         cut):
                    normal["spike"].append((lp, b, key[2], key[3], None))
        for code, q in sr["errors"].items():
            x = errs.get((key, code))
            if x is None:
                continue
            for lp, b in normal_scan("errors", x, alls[key], q, cl, win, cut):
                normal["error"].append((lp, b, key[2], key[3], code))
    return {"corpus": os.path.basename(os.path.normpath(corpus)), "rows": rows,
            "after": labels.get("anomalyAfter", 0),
            "normal": normal, "skipped": skipped, "t0": t0, "cut": cut}


def summarise(title, rows, normal, cut, horizon, t0s, out):
    print(f"== {title}")
    res = {}
    for kind in KINDS:
        nl = normal[kind]
        worst = min(nl, default=None)
        nmin_lp = worst[0] if worst is not None else cut
        if worst is not None:
            corpus, lp, b, src, name, code = worst[5], worst[0], worst[1], worst[2], worst[3], worst[4]
            when = datetime.fromtimestamp(t0s[corpus] + b * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M")
            where = f"{corpus} {src} {name}{' ' + code if code else ''} window ending {when}"
        else:
            where = f"no normal window below p {fmt_p(cut)}: taken as that"
        kr = [r for r in rows if r["kind"] == kind]
        lags = []
        for r in kr:
            lag = next((k + 1 for k, lp in enumerate(r["_ev"]) if lp < nmin_lp), math.inf)
            r.setdefault("oracle_lag_min", {})[title] = lag
            lags.append(lag)
        u3 = sum(1 for r in kr if r["_ev"][2] >= nmin_lp)
        u6 = sum(1 for r in kr if r["_ev"][5] >= nmin_lp)
        late = [r for r in kr if "stream_lag_min" in r
                and r["stream_lag_min"] > r["oracle_lag_min"][title] + 1]
        med = median(lags) if lags else math.nan
        p90 = nearest_rank(lags, 0.9) if lags else math.nan
        print(f"{kind:6} anomalies {len(kr):3}  normal smallest p {fmt_p(nmin_lp):>8}"
              f"  undecidable by 3 min {u3:2}, by 6 min {u6:2}"
              f"  oracle lag median {med:4.1f} p90 {p90:4.1f}"
              + (f"  late in the stream {len(late)}" if any("stream_lag_min" in r for r in kr)
                 else "") + f"   ({where})")
        res[kind] = {"anomalies": len(kr), "normal_min_log10_p": nmin_lp / math.log(10),
                     "normal_min_at": where, "undecidable_by_3": u3, "undecidable_by_6": u6,
                     "oracle_lag_median_min": med, "oracle_lag_p90_min": p90,
                     "late_in_stream": len(late)}
        for r in kr:
            if r["_ev"][5] >= nmin_lp or r["_ev"][2] >= nmin_lp or r in late:
                print(f"   {r['corpus']} #{r['id']} {r['eventName']}"
                      f"{' ' + r['errorCode'] if r['errorCode'] else ''}"
                      f" (x{r['factor']:.3g} on {r['baseRate']:.3g}/min): p by 3 min"
                      f" {fmt_p(r['_ev'][2])}, by 6 {fmt_p(r['_ev'][5])}; oracle lag"
                      f" {lag_text(r['oracle_lag_min'][title], horizon)}"
                      + (f", stream {r['stream_lag_min']:.1f}" if "stream_lag_min" in r else "")
                      + (" (the code never fails normally: p 0 at its first failure)"
                         if r["q"] == 0 else ""))
    out[title] = res


def lag_text(lag, horizon):
    return f"> {horizon}" if lag == math.inf else f"{lag}"


def main(argv):
    win, horizon, jout = 32, 30, None
    corpora, truths, scores = [], [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--window", "--horizon", "--json", "--truth", "--score") and i + 1 < len(argv):
            v = argv[i + 1]
            if a == "--window":
                win = int(v)
            elif a == "--horizon":
                horizon = int(v)
            elif a == "--json":
                jout = v
            elif a == "--score":
                scores.append(v)
            else:
                truths.append(v)
            i += 2
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            corpora.append(a)
            i += 1
    if (not corpora or len(truths) > len(corpora) or len(scores) > len(corpora) or horizon < 6
            or win < 1):
        print(__doc__, file=sys.stderr)
        return 2
    truths += [os.path.join(c, "truth.json") for c in corpora[len(truths):]]
    results = [analyse(c, t, win, horizon) for c, t in zip(corpora, truths)]
    for r, path in zip(results, scores):
        with open(path) as f:
            got = {x["id"]: x for x in json.load(f)["anomalies"]}
        for x in r["rows"]:
            g = got.get(x["id"], {})
            if g.get("kind") == x["kind"] and "lag_min" in g:
                x["stream_lag_min"] = g["lag_min"]
    out = {}
    t0s = {r["corpus"]: r["t0"] for r in results}

    def scoped(r, k, judged):
        lo = r["after"] * 1440 if judged else 0
        return [n + (r["corpus"],) for n in r["normal"][k] if n[1] >= lo]
    for judged in (True, False):
        for r in results:
            if r["skipped"] and not judged:
                print(f"({r['corpus']}: call rate of {r['skipped']} drifted job series left out)")
            scope = f"from day {r['after']}" if judged else "all days"
            normal = {k: scoped(r, k, judged) for k in KINDS}
            summarise(f"{r['corpus']}, normal windows {scope}", r["rows"], normal, r["cut"],
                      horizon, t0s, out)
        if len(results) > 1:
            rows = [x for r in results for x in r["rows"]]
            normal = {k: [n for r in results for n in scoped(r, k, judged)] for k in KINDS}
            scope = "judged days (from anomalyAfter)" if judged else "all days"
            summarise(f"all corpora, normal windows {scope}", rows, normal,
                      min(r["cut"] for r in results), horizon, t0s, out)
    if jout:
        rows = [{k: v for k, v in x.items() if k != "_ev"} for r in results for x in r["rows"]]
        for x in rows:
            x["oracle_lag_min"] = {t: (None if v == math.inf else v)
                                   for t, v in x["oracle_lag_min"].items()}
        with open(jout, "w") as f:
            json.dump({"window": win, "horizon": horizon, "summary": out, "anomalies": rows},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
