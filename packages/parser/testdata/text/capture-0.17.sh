#!/bin/sh
# Captures the 0.17 text fixtures (and the -f json run of the same program) from the real bpftrace here.
# Usage: sh capture-0.17.sh [NAME...]  (run as root; writes 0.17/NAME.txt, NAME.json, NAME.meta.json)
set -eu
cd "$(dirname "$0")/0.17"
version=$(bpftrace --version)
names=${*:-$(ls *.bt | sed 's/\.bt$//')}
for name in $names; do
  extra=""
  if [ "$name" = stacks ]; then extra="-c '/usr/bin/sh -c true'"; fi
  if [ "$name" = helper-error ]; then extra="-kk -c '/usr/bin/sh -c true'"; fi
  text_cmd="bpftrace $extra $name.bt"
  json_cmd="bpftrace -f json $extra $name.bt"
  eval "$text_cmd" > "$name.txt" 2> /tmp/ktrace-capture.err || { cat /tmp/ktrace-capture.err >&2; exit 1; }
  eval "$json_cmd" > "$name.json" 2> /tmp/ktrace-capture.err || { cat /tmp/ktrace-capture.err >&2; exit 1; }
  printf '{ "bpftrace": "%s", "command": "%s", "jsonCommand": "%s" }\n' "$version" \
    "$(printf '%s' "$text_cmd" | sed 's/"/\\"/g; s/  */ /g')" "$(printf '%s' "$json_cmd" | sed 's/"/\\"/g; s/  */ /g')" > "$name.meta.json"
done
