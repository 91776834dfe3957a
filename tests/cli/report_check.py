#!/usr/bin/env python3
"""report_check.py - checks a trailsight report folder the way a reader would.

    report_check.py --report DIR --events FILE --labels FILE [--chromium BIN --shots DIR]

- every page parses as HTML5 without a single parse error (html5lib, strict);
- no page refers to anything outside the folder (no script, link, img, src,
  url(); every href is a page of the report that exists);
- each labelled anomaly (spike, drop, error) has its insight page, and its
  charts (wide and narrow) have the series and the band drawn, the x scale
  read from the tick labels (UTC) agrees with the one the SVG states, and
  the Start and End lines sit at the event times' minutes; the drawn series
  is extreme inside the episode (highest for a spike or an error burst,
  lowest for a drop);
- with --chromium: the index and the three pages are rendered by headless
  Chromium (a desktop and a phone-sized window), with no console error and
  no failed load in its log; the screenshots show the series, the band and
  the Start line in their colours.
Prints one line per failure and "N passed, M failed"; exits 1 on a failure.
"""
import argparse
import glob
import json
import os
import re
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timezone

import html5lib

passed = 0
failed = 0


def check(what, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, file=sys.stderr)
    return ok


def minute_of(iso):
    t = datetime.strptime(iso[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
    return int(t.timestamp()) // 60


def local(tag):
    return tag.split("}")[-1] if isinstance(tag, str) else ""


def classes(el):
    return (el.get("class") or "").split()


FORBIDDEN = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "image",
             "use", "base", "form", "source"}


def check_page(path, root):
    text = open(path, encoding="utf-8").read()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        doc = parser.parse(text)
    except Exception as e:  # html5lib raises ParseError at the first error
        check("%s parses as HTML5 without errors (%s)" % (path, e), False)
        return None
    check("%s parses as HTML5" % path, True)
    bad = []
    for el in doc.iter():
        name = local(el.tag)
        if name in FORBIDDEN:
            bad.append("<%s>" % name)
        for k, v in el.attrib.items():
            k = local(k)
            if k in ("src", "srcset", "action", "poster", "data", "background"):
                bad.append("%s=%s" % (k, v))
            if k == "href":
                target = os.path.normpath(os.path.join(os.path.dirname(path), v))
                if re.match(r"^[a-z]+:", v) or v.startswith("//") or not v.endswith(".html"):
                    bad.append("href=" + v)
                elif not os.path.isfile(target):
                    bad.append("href to a missing page " + v)
            if k == "style" and "url(" in v:
                bad.append("style url()")
        if name == "style" and el.text and ("url(" in el.text or "@import" in el.text):
            bad.append("<style> url() or @import")
    check("%s refers to nothing outside the report (%s)" % (path, ", ".join(bad[:5])), not bad)
    return doc


def path_points(d):
    """[(x, y), ...] of an M/L path."""
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


def check_chart(page, svg, start, end, kind):
    ticks = [g for g in svg.iter() if local(g.tag) == "g" and "tick" in classes(g)]
    pts = []
    for g in ticks:
        line = next(e for e in g if local(e.tag) == "line")
        label = next(e for e in g if local(e.tag) == "text")
        iso = g.get("data-time")
        check("%s: tick label %s matches its time %s" % (page, label.text, iso),
              label.text == iso[11:16])
        pts.append((minute_of(iso), float(line.get("x1"))))
    if not check("%s: at least two time ticks" % page, len(pts) >= 2):
        return
    # the x scale from the tick labels alone (least squares)
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mx = sum(x for _, x in pts) / n
    b = sum((t - mt) * (x - mx) for t, x in pts) / sum((t - mt) ** 2 for t, _ in pts)
    a = mx - b * mt

    def x_of(t):
        return a + b * t

    t0, x0, ppm = int(svg.get("data-t0")), float(svg.get("data-x0")), float(svg.get("data-px-per-min"))
    check("%s: the stated x scale agrees with the tick labels" % page,
          abs(ppm - b) < 1e-3 * max(1, b) + 0.02 and abs(x0 - x_of(t0)) < 0.2)
    marks = {}
    for g in svg.iter():
        for cls in ("ts-start", "ts-end"):
            if local(g.tag) == "g" and cls in classes(g):
                line = next(e for e in g if local(e.tag) == "line")
                marks[cls] = float(line.get("x1"))
    check("%s: Start line at %s (x %.1f, expected %.1f)" % (page, start, marks.get("ts-start", -1),
                                                          x_of(start)),
          "ts-start" in marks and abs(marks["ts-start"] - x_of(start)) < 0.15)
    if end is not None:
        check("%s: End line at %s (x %.1f, expected %.1f)" % (page, end, marks.get("ts-end", -1),
                                                            x_of(end)),
              "ts-end" in marks and abs(marks["ts-end"] - x_of(end)) < 0.15)
    paths = {}
    for e in svg.iter():
        if local(e.tag) == "path":
            for c in classes(e):
                paths[c] = e
    obs = paths.get("ts-observed")
    if not check("%s: the observed series is drawn" % page, obs is not None):
        return
    p = path_points(obs.get("d"))
    nmin = int(svg.get("data-n"))
    check("%s: one observed point per minute (%d of %d)" % (page, len(p), nmin), len(p) == nmin)
    check("%s: observed points at their minutes' middles" % page,
          all(abs(x - x_of(t0 + i + 0.5)) < 0.15 for i, (x, _) in enumerate(p)))
    band = paths.get("ts-band")
    check("%s: the band is drawn" % page,
          band is not None and band.get("d", "").count("Z") >= 1 and len(path_points(band.get("d"))) > 20)
    check("%s: the expected rate is drawn" % page,
          "ts-expected" in paths and len(path_points(paths["ts-expected"].get("d"))) > 20)
    inside = [y for i, (x, y) in enumerate(p) if start <= t0 + i < (end if end else start + 60)]
    outside = [y for i, (x, y) in enumerate(p) if t0 + i < start]
    if kind == "drop":  # larger y is lower on the screen
        check("%s: the drop is drawn lower inside the episode" % page,
              inside and outside and sum(inside) / len(inside) > sum(outside) / len(outside))
    else:
        check("%s: the highest point of the series is inside the episode" % page,
              inside and outside and min(inside) < min(outside))


# ---- PNG pixels, to see what Chromium drew ----

def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        ln, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + ln]
        if typ == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG")
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + ln
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for r in range(h):
        f = raw[r * (stride + 1)]
        line = bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            ul = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + left) & 255
            elif f == 2:
                line[i] = (line[i] + up) & 255
            elif f == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(up - ul), abs(left - ul), abs(left + up - 2 * ul)
                pr = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def count_colour(path, rgb, tol=28):
    w, h, bpp, rows = png_pixels(path)
    n = 0
    for row in rows:
        for i in range(0, w * bpp, bpp):
            if abs(row[i] - rgb[0]) <= tol and abs(row[i + 1] - rgb[1]) <= tol and abs(row[i + 2] - rgb[2]) <= tol:
                n += 1
    return n


def chromium(binary, url, shot, size):
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
           "--window-size=%d,%d" % size, "--screenshot=" + shot, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    dom = subprocess.run(cmd[:-2] + ["--dump-dom", url], capture_output=True, text=True, timeout=180)
    return r, dom


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--chromium")
    ap.add_argument("--shots")
    o = ap.parse_args()

    events = [json.loads(l) for l in open(o.events) if l.strip()]
    by_id = {}
    for e in events:
        by_id.setdefault(e["sharedEventID"], {})[e["insightDetails"]["state"]] = e
    pages = sorted(glob.glob(os.path.join(o.report, "*.html")) + glob.glob(os.path.join(o.report, "i", "*.html")))
    check("the report has an index", os.path.join(o.report, "index.html") in pages)
    check("one page per insight (%d pages for %d insights)" %
          (len(glob.glob(os.path.join(o.report, "i", "*.html"))), len(by_id)),
          len(glob.glob(os.path.join(o.report, "i", "*.html"))) == len(by_id))
    docs = {p: check_page(p, o.report) for p in pages}

    # the index lists every insight, newest first
    idx = open(os.path.join(o.report, "index.html")).read()
    links = re.findall(r'href="(i/[^"]+\.html)"', idx)
    starts = []
    for l in links:
        sid = os.path.basename(l)[:-5]
        starts.append(minute_of(by_id[sid]["Start"]["eventTime"]) if "Start" in by_id.get(sid, {}) else 0)
    check("the index links every insight once", sorted(links) == sorted(set(links)) and len(links) == len(by_id))
    check("the index is newest first", starts == sorted(starts, reverse=True))

    labels = json.load(open(o.labels))["anomalies"]
    chosen = {}
    for lab in labels:
        kind = lab["kind"]
        ls, le = minute_of(lab["start"]), minute_of(lab["end"])
        want = "ApiErrorRateInsight" if kind == "error" else "ApiCallRateInsight"
        found = None
        for sid, ev in by_id.items():
            s = ev.get("Start")
            if not s:
                continue
            d = s["insightDetails"]
            if (d["insightType"] == want and d["eventName"] == lab["eventName"] and
                    d["eventSource"] == lab["eventSource"] and s["awsRegion"] == lab["region"] and
                    ls - 5 <= minute_of(s["eventTime"]) <= le):
                found = sid
        if not check("an insight page for the labelled %s on %s" % (kind, lab["eventName"]), found):
            continue
        chosen[kind] = found
        page = os.path.join(o.report, "i", found + ".html")
        doc = docs.get(page)
        if doc is None:
            continue
        ev = by_id[found]
        start = minute_of(ev["Start"]["eventTime"])
        end = minute_of(ev["End"]["eventTime"]) if "End" in ev else None
        svgs = [e for e in doc.iter() if local(e.tag) == "svg" and "ts-chart" in classes(e)]
        check("%s: a wide and a narrow chart" % page, len(svgs) == 2)
        for svg in svgs:
            check_chart(page, svg, start, end, kind)
    check("a spike, a drop and an error burst are among the insights",
          set(chosen) == {"spike", "drop", "error"})

    if not o.chromium:
        return
    os.makedirs(o.shots, exist_ok=True)
    targets = [("index", os.path.join(o.report, "index.html"), (1280, 760))]
    for kind in ("spike", "drop", "error"):
        if kind in chosen:
            targets.append((kind, os.path.join(o.report, "i", chosen[kind] + ".html"), (1280, 2000)))
    if "spike" in chosen:
        targets.append(("spike-phone", os.path.join(o.report, "i", chosen["spike"] + ".html"), (390, 1400)))
    for name, page, size in targets:
        shot = os.path.join(o.shots, name + ".png")
        if os.path.exists(shot):
            os.remove(shot)
        r, dom = chromium(o.chromium, "file://" + os.path.abspath(page), shot, size)
        log = r.stderr + dom.stderr
        noise = [l for l in log.splitlines() if re.search(r"CONSOLE|net::ERR|Failed to load|Uncaught", l)]
        check("%s: Chromium rendered it (exit %d)" % (name, r.returncode), r.returncode == 0 and os.path.isfile(shot))
        check("%s: no console error or failed load in Chromium's log (%s)" % (name, noise[:3]), not noise)
        check("%s: Chromium's DOM has the page" % name,
              "</html>" in dom.stdout and ("ts-observed" in dom.stdout or name == "index"))
        if name == "index" or not os.path.isfile(shot):
            continue
        blue = count_colour(shot, (31, 78, 156))
        band = count_colour(shot, (212, 235, 233), tol=10)
        red = count_colour(shot, (193, 18, 31), tol=40)
        check("%s: the screenshot shows the series (%d px), the band (%d px) and the Start (%d px)"
              % (name, blue, band, red), blue > 150 and band > 1000 and red > 40)


if __name__ == "__main__":
    main()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
