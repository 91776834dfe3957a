#!/usr/bin/env bash
# deploy.sh - the files in deploy/ hold together: the systemd unit passes
# systemd-analyze verify (with ExecStart pointed at the built binary), its
# ExecStart options are ones trailsight accepts, the compose file parses
# and runs trailsight stream next to redis-server, and the Containerfile
# copies only paths that exist. Without systemd-analyze or python3-yaml the
# checks that need them are reported as skipped (exit 77).
source "$(dirname "$0")/lib.sh"
d=$TS_SOURCE_DIR/deploy

if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/trailsight|$TRAILSIGHT|" "$d/trailsight.service" > "$tmp/trailsight.service"
  check "systemd-analyze verify accepts the unit" \
    bash -c "SYSTEMD_LOG_LEVEL=warning systemd-analyze verify '$tmp/trailsight.service' 2> '$tmp/verify.err'; \
             ! grep -v -e 'Failed to open .*trailsight.env' -e '^$' '$tmp/verify.err' | grep ."
  cat "$tmp/verify.err" >&2 || true
  score=$(systemd-analyze security --offline=true "$tmp/trailsight.service" 2>/dev/null |
    awk '/Overall exposure level/ {print $(NF - 2)}')
  echo "systemd-analyze security: exposure ${score:-n/a}"
  check "systemd-analyze security gives an exposure level" test -n "$score"
  check "hardened: exposure level below 3.0 (${score:-none})" \
    awk -v s="${score:-99}" 'BEGIN {exit !(s < 3.0)}'
else
  skip "systemd-analyze is not installed (package systemd, tools/install-deps.sh): unit not verified"
fi

# the options ExecStart and the container use exist
check "the unit's options are accepted" bash -c "
  out=\$('$TRAILSIGHT' stream --watch /nonexistent --store mem --out - --metrics-file /dev/null \
        --spool-dir '$tmp/spool' 2>&1); echo \"\$out\" | grep -q \"cannot watch '/nonexistent'\""
check "the env file sets every variable ExecStart uses" bash -c "
  for v in \$(grep -o '\${TRAILSIGHT_[A-Z]*}' '$d/trailsight.service' | tr -d '\${}' | sort -u); do
    grep -q \"^\$v=\" '$d/trailsight.env' || { echo \"missing \$v\" >&2; exit 1; }
  done"

if python3 -c 'import yaml' 2>/dev/null; then
  check "compose.yaml: trailsight stream with redis" python3 - "$d/compose.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
assert "redis" in s and "trailsight" in s
cmd = s["trailsight"]["command"]
assert cmd[0] == "stream" and "--watch" in cmd and "redis://redis:6379/0" in cmd
assert "appendonly" in " ".join(s["redis"]["command"])
assert s["trailsight"]["build"]["dockerfile"] == "deploy/Containerfile"
PY
else
  skip "python3-yaml is not installed (tools/install-deps.sh): compose.yaml not parsed"
fi
check "Containerfile copies paths that exist" bash -c "
  cd '$TS_SOURCE_DIR' && awk '/^COPY [^-]/ {print \$2}' '$d/Containerfile' |
    while read p; do [ -e \"\$p\" ] || { echo \"missing \$p\" >&2; exit 1; }; done"
finish
