#!/usr/bin/env python3
"""deliver.py - copies log files from a corpus into a watched folder the
way a sync tool does: in delivery order (the time in the file name), each
written under a hidden temporary name and renamed into place.

  deliver.py SRC DEST [FROM [TO]]

SRC and DEST are folders holding AWSLogs/; FROM and TO select files by
their position in delivery order (0-based, TO exclusive). Prints the count.
"""
import os
import shutil
import sys


def delivery_order(src):
    files = []
    for root, dirs, names in os.walk(os.path.join(src, "AWSLogs")):
        dirs[:] = sorted(d for d in dirs if d != "CloudTrail-Digest")
        for n in names:
            if n.endswith(".json.gz"):
                rel = os.path.relpath(os.path.join(root, n), src)
                files.append((n.split("_")[3], rel))
    files.sort()
    return [rel for _, rel in files]


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    src, dest = sys.argv[1], sys.argv[2]
    files = delivery_order(src)
    lo = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    hi = int(sys.argv[4]) if len(sys.argv) > 4 else len(files)
    for rel in files[lo:hi]:
        target = os.path.join(dest, rel)
        d = os.path.dirname(target)
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, "." + os.path.basename(rel) + ".part")
        shutil.copyfile(os.path.join(src, rel), tmp)
        os.rename(tmp, target)
    print(len(files[lo:hi]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
