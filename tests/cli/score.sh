#!/usr/bin/env bash
# score.sh - the detection-quality scorer (bench/score.py) and the
# time-to-detect scorer (bench/ttd.py score, with its floor) on their
# hand-made cases, whose expected numbers are worked out in
# bench/test_score.py and bench/test_ttd.py; the bound on time to detect
# (bench/ttdbound.py) on the hand-made corpus of bench/test_ttdbound.py.
source "$(dirname "$0")/lib.sh"
check "bench/test_score.py passes" python3 "$TS_SOURCE_DIR/bench/test_score.py"
check "bench/test_ttd.py passes" python3 "$TS_SOURCE_DIR/bench/test_ttd.py"
check "bench/test_ttdbound.py passes" python3 "$TS_SOURCE_DIR/bench/test_ttdbound.py"
finish
