#!/usr/bin/env python3
"""soak.py - the moving parts of bench/soak.sh, one subcommand each:

  soak.py feed SRC DEST --speed X --backlog-until YYYYMMDDTHHMMZ --deadline T --status FILE
      copies SRC's log files into the watched folder DEST in delivery order
      (tmp name + rename, as a sync tool does): those delivered before
      --backlog-until at once, the rest paced at X times real time (by the
      delivery time in their names), until Unix time T or none are left.
  soak.py chaos --port-file F --log F --control F --mode-file F --seconds S --seed N
      runs bench/receiver.py and changes how it answers every 20-60 s:
      ok, slow (0.2-3 s, under the sender's 5 s timeout), error (503) or
      down (the receiver stopped: connections refused), drawn from a
      shuffled bag of ok, ok, slow, error, down (so every 5 spells hold
      each); the last 15% of the time, and after SIGTERM until it exits, it
      is up and ok.
  soak.py sample --pid P --out F --rx-log F --metrics F --spool D --mode-file F
                 --csv F --interval S
      every S seconds, one CSV row: RSS, open fds, events printed and
      received, spool files, receiver mode, Start latency (trailsight's
      metrics) and delivery latency (stdout to receiver) of the interval.
  soak.py report --out F --rx-log F --csv F --stats F --spool D --minutes M --json F
      the end: every event printed on stdout must have arrived exactly once
      (by eventID); prints and writes the summary. Exit 1 if any was lost
      or duplicated.

--out is trailsight's stdout with each line prefixed by the wall time it
was read ("<unix time> <json>"); --rx-log is receiver.py's log.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))


def name_time(rel):
    """The delivery time in a log file's name, as a Unix time."""
    stamp = os.path.basename(rel).split("_")[3]
    return datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc).timestamp()


def copy_in(src, dest, rel):
    target = os.path.join(dest, rel)
    d = os.path.dirname(target)
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, "." + os.path.basename(rel) + ".part")
    shutil.copyfile(os.path.join(src, rel), tmp)
    os.rename(tmp, target)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def cmd_feed(a):
    from deliver import delivery_order
    files = delivery_order(a.src)
    cut = datetime.strptime(a.backlog_until, "%Y%m%dT%H%MZ").replace(
        tzinfo=timezone.utc).timestamp()
    n = 0
    i = 0
    while i < len(files) and name_time(files[i]) < cut:
        copy_in(a.src, a.dest, files[i])
        i += 1
        n += 1
    write_atomic(a.status, "backlog %d\n" % n)
    write_atomic(a.status + ".backlog", "%d\n" % n)
    t0 = time.time()
    end = a.deadline
    while i < len(files):
        due = t0 + (name_time(files[i]) - cut) / a.speed
        if due >= end:
            break
        now = time.time()
        if due > now:
            time.sleep(min(due - now, end - now))
            continue
        copy_in(a.src, a.dest, files[i])
        i += 1
        n += 1
        write_atomic(a.status, "paced %d %s\n" % (n, os.path.basename(files[i - 1]).split("_")[3]))
    left = len(files) - i
    write_atomic(a.status, "done %d %d\n" % (n, left))
    if left == 0 and time.time() < end - 5:
        print("soak feed: the corpus ran out %.0f s early" % (end - time.time()), file=sys.stderr)
    return 0


def cmd_chaos(a):
    rng = random.Random(a.seed)
    rx = None
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def up():
        nonlocal rx
        if rx is None:
            port = []
            if os.path.exists(a.port_file):
                port = ["--port", open(a.port_file).read().strip()]
            rx = subprocess.Popen([sys.executable, os.path.join(HERE, "receiver.py"),
                                   "--port-file", a.port_file + ".new", "--log", a.log,
                                   "--control", a.control] + port)
            for _ in range(100):
                if os.path.exists(a.port_file + ".new"):
                    break
                time.sleep(0.05)
            os.replace(a.port_file + ".new", a.port_file)

    def down():
        nonlocal rx
        if rx is not None:
            rx.send_signal(signal.SIGTERM)
            rx.wait()
            rx = None

    def mode(m, ctl):
        write_atomic(a.control, ctl + "\n")
        write_atomic(a.mode_file, m + "\n")

    mode("ok", "ok")
    up()
    t0 = time.time()
    calm = t0 + a.seconds * 0.85
    bag = []
    while not stop and time.time() < calm:
        if not bag:
            bag = ["ok", "ok", "slow", "error", "down"]
            rng.shuffle(bag)
        m = bag.pop()
        if m == "slow":
            mode("slow", "slow %.2f" % rng.uniform(0.2, 3.0))
        elif m == "down":
            mode("down", "ok")
        else:
            mode(m, m)
        if m == "down":
            down()
        else:
            up()
        hold = min(rng.uniform(20, 60), max(0.0, calm - time.time()))
        deadline = time.time() + hold
        while not stop and time.time() < deadline:
            time.sleep(0.2)
    mode("ok", "ok")
    up()
    while not stop:
        time.sleep(0.2)
    down()
    return 0


def read_new(path, pos):
    """Complete lines of path added since byte offset pos; the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except OSError:
        return [], pos
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), pos + end


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(-(-len(xs) * p // 100)) - 1))
    return xs[k]


def spool_count(base):
    """Events waiting in the webhook spools under base (rejected/ left out)."""
    n = 0
    for root, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d != "rejected"]
        n += sum(1 for x in names if x.endswith(".json") and x[:20].isdigit())
    return n


def metrics_all(path):
    out = {}
    try:
        for line in open(path):
            if line.startswith("#") or " " not in line:
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    except (OSError, ValueError):
        pass
    return out


def proc_status(pid):
    rss = None
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None, None
    return rss, fds


def fmt(v, spec="%.3f"):
    return "" if v is None else spec % v


def cmd_sample(a):
    out_pos = rx_pos = 0
    printed = {}  # eventID -> time printed
    n_out = n_rx = 0
    t0 = time.time()
    with open(a.csv, "w") as csv:
        csv.write("elapsed_s,rss_kb,fds,records_counted,files_read,events_printed,"
                  "events_received,spool_files,receiver_mode,start_latency_p50_s,"
                  "start_latency_p99_s,start_latency_max_s,delivery_p50_s,delivery_p99_s,"
                  "delivery_max_s,heap_in_use_kb,heap_free_kb,engine_kb,history_kb,"
                  "history_attrs_kb,watch_kb,data_time\n")
        csv.flush()
        while True:
            rss, fds = proc_status(a.pid)
            if rss is None:
                break
            lines, out_pos = read_new(a.out, out_pos)
            for ln in lines:
                t, _, body = ln.partition(b" ")
                try:
                    printed[json.loads(body)["eventID"]] = float(t)
                    n_out += 1
                except (ValueError, KeyError):
                    pass
            lat = []
            lines, rx_pos = read_new(a.rx_log, rx_pos)
            for ln in lines:
                parts = ln.split(b" ", 2)
                if len(parts) < 2:
                    continue
                n_rx += 1
                tp = printed.get(parts[1].decode())
                if tp is not None:
                    lat.append(max(0.0, float(parts[0]) - tp))
            m = metrics_all(a.metrics)
            q = lambda x: m.get('trailsight_start_latency_seconds{quantile="%s"}' % x)
            spool = spool_count(a.spool_dir)
            try:
                mode = open(a.mode_file).read().strip()
            except OSError:
                mode = ""
            mem = lambda part: m.get('trailsight_memory_bytes{part="%s"}' % part)
            engine = [mem(p) for p in ("agg", "store", "order", "registry", "detectors",
                                       "partitions", "scratch")]
            engine = sum(engine) if None not in engine else None
            kb = lambda v: fmt(None if v is None else v / 1024, "%.0f")
            lag = m.get("trailsight_watermark_lag_seconds")
            csv.write("%.1f,%d,%d,%s,%s,%d,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n" % (
                time.time() - t0, rss, fds,
                fmt(m.get("trailsight_records_counted_total"), "%.0f"),
                fmt(m.get("trailsight_files_total"), "%.0f"),
                n_out, n_rx, spool, mode, fmt(q("0.5")), fmt(q("0.99")), fmt(q("1")),
                fmt(pct(lat, 50)), fmt(pct(lat, 99)), fmt(max(lat) if lat else None),
                kb(m.get('trailsight_heap_bytes{state="in_use"}')),
                kb(m.get('trailsight_heap_bytes{state="free"}')),
                kb(engine), kb(mem("history")), kb(mem("history_attrs")), kb(mem("watch")),
                "" if lag is None else datetime.fromtimestamp(
                    time.time() - lag, timezone.utc).strftime("%Y-%m-%dT%H:%M")))
            csv.flush()
            time.sleep(a.interval)
    return 0


def slope(rows, col, since):
    """Least-squares slope of column col (KB) against time over the rows at
    or after elapsed second since, in MB per hour; None with under 3."""
    pts = [(float(r["elapsed_s"]), float(r[col])) for r in rows
           if r.get(col) and float(r["elapsed_s"]) >= since]
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = sum(t for t, _ in pts) / n
    my = sum(v for _, v in pts) / n
    sxx = sum((t - mx) ** 2 for t, _ in pts)
    if sxx == 0:
        return None
    sxy = sum((t - mx) * (v - my) for t, v in pts)
    return sxy / sxx * 3600 / 1024


def cmd_report(a):
    printed = []
    t_out = {}
    for ln in open(a.out, "rb"):
        t, _, body = ln.rstrip(b"\n").partition(b" ")
        try:
            eid = json.loads(body)["eventID"]
        except (ValueError, KeyError):
            continue
        printed.append(eid)
        t_out[eid] = float(t)
    got = {}
    lat = []
    for ln in open(a.rx_log, "rb"):
        parts = ln.split(b" ", 2)
        if len(parts) < 2:
            continue
        eid = parts[1].decode()
        got[eid] = got.get(eid, 0) + 1
        if eid in t_out and got[eid] == 1:
            lat.append(max(0.0, float(parts[0]) - t_out[eid]))
    pset = set(printed)
    lost = [e for e in pset if e not in got]
    dup = [e for e, n in got.items() if n > 1]
    extra = [e for e in got if e not in pset]
    spool = spool_count(a.spool_dir)
    rows = []
    with open(a.csv) as f:
        head = f.readline().strip().split(",")
        for line in f:
            rows.append(dict(zip(head, line.strip().split(","))))
    # warmed up: a minute after the backlog (the first days, at once) was read
    read_at = next((float(r["elapsed_s"]) for r in rows
                    if r["files_read"] and float(r["files_read"]) >= a.backlog_files), None)
    warm_at = (read_at if read_at is not None else 0.0) + 60.0

    def at(r):
        if not r:
            return None
        num = lambda k: int(float(r[k])) if r.get(k) else None
        return {"elapsed_s": float(r["elapsed_s"]), "rss_kb": int(r["rss_kb"]),
                "fds": int(r["fds"]), "heap_in_use_kb": num("heap_in_use_kb"),
                "engine_kb": num("engine_kb"), "history_kb": num("history_kb"),
                "data_time": r.get("data_time")}
    warm = next((r for r in rows if float(r["elapsed_s"]) >= warm_at), rows[-1] if rows else None)
    stats = {}
    try:
        stats = json.load(open(a.stats))
    except (OSError, ValueError):
        pass
    end_s = float(rows[-1]["elapsed_s"]) if rows else 0.0
    since = max(warm_at, end_s - a.slope_minutes * 60)
    slopes = {c: slope(rows, c, since) for c in ("rss_kb", "heap_in_use_kb", "engine_kb",
                                                  "history_kb", "history_attrs_kb", "watch_kb")}
    modes = {}
    for r in rows:
        modes[r["receiver_mode"]] = modes.get(r["receiver_mode"], 0) + 1
    summary = {
        "minutes": a.minutes,
        "backlog_files": a.backlog_files,
        "backlog_read_at_s": read_at,
        "samples": len(rows),
        "rss_fd": {"start": at(rows[0] if rows else None), "after_warmup": at(warm),
                   "end": at(rows[-1] if rows else None),
                   "max_rss_kb": max((int(r["rss_kb"]) for r in rows), default=None),
                   "max_fds": max((int(r["fds"]) for r in rows), default=None)},
        "slope_mb_per_hour": dict(slopes, since_s=since),
        "start_latency_seconds": stats.get("start_latency_seconds"),
        "delivery_latency_seconds": {"n": len(lat), "p50": pct(lat, 50), "p90": pct(lat, 90),
                                     "p99": pct(lat, 99), "max": max(lat) if lat else None},
        "events_printed": len(printed),
        "events_printed_twice": len(printed) - len(pset),
        "events_received": sum(got.values()),
        "lost": len(lost), "duplicated": len(dup), "unexpected": len(extra),
        "left_in_spool": spool,
        "receiver_mode_samples": modes,
        "records_counted": stats.get("records_counted"),
        "files": stats.get("files"),
        "sinks": stats.get("sinks"),
        "exit_status": a.exit_status,
    }
    with open(a.json, "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    r = summary["rss_fd"]
    sl = summary["start_latency_seconds"] or {}
    dl = summary["delivery_latency_seconds"]
    print("soak: %s min, %d samples, exit status %s" % (a.minutes, len(rows), a.exit_status))
    for k in ("start", "after_warmup", "end"):
        if r[k]:
            mb = lambda v: "-" if v is None else "%.1f MB" % (v / 1024)
            print("  %-13s at %6.0f s: RSS %6.1f MB, %3d fds; heap in use %s, engine %s "
                  "(history %s); data time %s" % (
                      k.replace("_", " "), r[k]["elapsed_s"], r[k]["rss_kb"] / 1024, r[k]["fds"],
                      mb(r[k]["heap_in_use_kb"]), mb(r[k]["engine_kb"]), mb(r[k]["history_kb"]),
                      r[k]["data_time"] or "-"))
    if r["max_rss_kb"] is not None:
        print("  max           RSS %6.1f MB, %3d fds" % (r["max_rss_kb"] / 1024, r["max_fds"]))
    print("  slope from %.0f s to the end (MB/hour): RSS %s, heap in use %s, engine %s "
          "(of which history %s, its attributions %s), watch %s" % (
              since, fmt(slopes["rss_kb"], "%+.2f"), fmt(slopes["heap_in_use_kb"], "%+.2f"),
              fmt(slopes["engine_kb"], "%+.2f"), fmt(slopes["history_kb"], "%+.2f"),
              fmt(slopes["history_attrs_kb"], "%+.2f"), fmt(slopes["watch_kb"], "%+.2f")))
    print("  backlog of %d files (%s days) read by %s s; records counted %s, files %s" % (
        a.backlog_files, a.backlog_days, fmt(read_at, "%.0f"), summary["records_counted"],
        summary["files"]))
    print("  Start latency (minute closed -> written): n %s, p50 %s s, p90 %s s, p99 %s s, max %s s"
          % (sl.get("n"), sl.get("median"), sl.get("p90"), sl.get("p99"), sl.get("max")))
    print("  delivery latency (stdout -> receiver): n %d, p50 %s s, p90 %s s, p99 %s s, max %s s"
          % (dl["n"], fmt(dl["p50"]), fmt(dl["p90"]), fmt(dl["p99"]), fmt(dl["max"])))
    print("  events: %d printed, %d received; lost %d, duplicated %d, unexpected %d, "
          "left in spool %d" % (len(printed), summary["events_received"], len(lost), len(dup),
                                len(extra), spool))
    print("  receiver modes (samples): %s" % ", ".join("%s %d" % kv for kv in sorted(modes.items())))
    bad = lost or dup or extra or summary["events_printed_twice"]
    print("soak: %s" % ("FAILED: events lost or duplicated" if bad else
                        "every event printed arrived exactly once"))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description="parts of bench/soak.sh")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("feed")
    f.add_argument("src")
    f.add_argument("dest")
    f.add_argument("--speed", type=float, required=True)
    f.add_argument("--backlog-until", required=True)
    f.add_argument("--deadline", type=float, required=True)
    f.add_argument("--status", required=True)
    c = sub.add_parser("chaos")
    for k in ("--port-file", "--log", "--control", "--mode-file"):
        c.add_argument(k, required=True)
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("sample")
    s.add_argument("--pid", type=int, required=True)
    for k in ("--out", "--rx-log", "--metrics", "--spool-dir", "--mode-file", "--csv"):
        s.add_argument(k, required=True)
    s.add_argument("--interval", type=float, default=10)
    r = sub.add_parser("report")
    for k in ("--out", "--rx-log", "--csv", "--stats", "--spool-dir", "--json"):
        r.add_argument(k, required=True)
    r.add_argument("--minutes", type=float, required=True)
    r.add_argument("--backlog-files", type=int, default=0)
    r.add_argument("--backlog-days", type=int, default=7)
    r.add_argument("--slope-minutes", type=float, default=20)
    r.add_argument("--exit-status", default="")
    a = ap.parse_args()
    return {"feed": cmd_feed, "chaos": cmd_chaos, "sample": cmd_sample,
            "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
