#!/usr/bin/env bash
# score.sh - the detection-quality scorer (bench/score.py) on its hand-made
# case, whose expected numbers are worked out in bench/test_score.py.
source "$(dirname "$0")/lib.sh"
check "bench/test_score.py passes" python3 "$TS_SOURCE_DIR/bench/test_score.py"
finish
