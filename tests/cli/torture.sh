#!/usr/bin/env bash
# torture.sh - the reduced allocation-failure walk (tests/torture/walk.sh):
# with its Nth allocation failing, trailsight exits 2 saying "out of
# memory", or 0 with the output of a clean run, and never leaks, crashes or
# trips a sanitizer. Here: N = 1..100, every 80th N and 30 drawn with a
# fixed seed for `stream --stdin` and a parallel folder backfill, and a
# sparser walk of a Redis-store backfill; the full walk is run by hand
# (walk.sh with no selection). Needs a -DTS_ALLOC_TORTURE=ON build
# (tools/test.sh makes one); SKIP (77) otherwise.
source "$(dirname "$0")/lib.sh"
: "${TRAILSIGHT_GEN:?set TRAILSIGHT_GEN to the generator binary}"
walk=$TS_SOURCE_DIR/tests/torture/walk.sh

rc=0
bash "$walk" --cases stdin,files --first 100 --stride 80 --sample 30 --seed 1 || rc=$?
[ "$rc" = 77 ] && exit 77
check "stdin and folder walks: every N a clean exit 2 or the clean output" test "$rc" = 0
rc=0
bash "$walk" --cases redis --first 20 --stride 1000 --sample 15 --seed 1 || rc=$?
check "Redis-store walk: every N a clean exit 2 or the clean output" test "$rc" = 0
finish
