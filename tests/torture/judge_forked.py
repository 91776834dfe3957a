#!/usr/bin/env python3
"""judge_forked.py - the verdicts of a fork-mode walk (walk.sh --fork).

    judge_forked.py CASE DIR REF [TIMEOUT]

DIR is the TS_ALLOC_FORK_DIR of the clean run, REF its standard output.
For each "N STATUS" line of DIR/status, the child that failed allocation N
wrote DIR/N.out, DIR/N.err and DIR/N.off (the clean run's output offset at
the fork). Prints "ok" or "FAIL CASE N=N: why" (with the first lines of
its error output) per child, by the rules of walk.sh's verdict(): no
sanitizer report; exit 2 with an out-of-memory message, or exit 0 with
the clean run's output up to the fork followed by the child's equal to
the clean run's whole output; no other status, no signal, no timeout
(SIGALRM, 142). Deletes the files of each child judged. Exit status 0.
"""
import os
import re
import sys

SAN = re.compile(rb"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
OOM = re.compile(rb"out of memory|cannot allocate memory", re.I)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def main():
    case, d, refpath = sys.argv[1:4]
    timeout = sys.argv[4] if len(sys.argv) > 4 else "?"
    ref = read(refpath) or b""
    with open(os.path.join(d, "status")) as f:
        lines = f.read().split("\n")
    out = sys.stdout
    for line in lines:
        if not line.strip():
            continue
        n, rc = line.split()
        rc = int(rc)
        base = os.path.join(d, n)
        err = read(base + ".err") or b""
        off = read(base + ".off")
        why = None
        if off is None:
            why = "the child did not record its output offset (status %d)" % rc
        elif SAN.search(err):
            why = "sanitizer report"
        elif rc in (124, 137, 142):
            why = "timeout after %ss" % timeout
        elif rc == 2:
            if not OOM.search(err):
                why = "exit 2 without an out-of-memory message"
        elif rc == 0:
            o = int(off.strip() or b"-1")
            body = read(base + ".out") or b""
            if o < 0 or ref[:o] + body != ref:
                why = "exit 0 with output unlike the clean run"
        else:
            why = "exit status %d" % rc
        if why is None:
            out.write("ok\n")
        else:
            out.write("FAIL %s N=%s: %s\n" % (case, n, why))
            shown = [l for l in err.decode("utf-8", "replace").split("\n") if l.strip()][:12]
            for l in shown:
                out.write("    %s\n" % l)
        for suffix in (".out", ".err", ".off"):
            try:
                os.unlink(base + suffix)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
