#!/bin/sh
# Captures text fixtures (and the -f json run of the same program) from a real bpftrace: the given binary (a
# scripts/versions.sh wrapper such as /var/cache/ktrace/bin/bpftrace-sid) or `bpftrace` on PATH. Writes
# MAJOR.MINOR/NAME.txt, NAME.json and NAME.meta.json; a program missing there is copied from 0.17/ first.
# Usage: sh capture.sh [BPFTRACE] [NAME...]   (run as root)
set -eu
cd "$(dirname "$0")"
bpftrace=bpftrace
case ${1:-} in */*) bpftrace=$1; shift ;; esac
version=$($bpftrace --version)
short=$(printf '%s' "$version" | sed 's/^bpftrace v\{0,1\}\([0-9]*\.[0-9]*\).*/\1/')
mkdir -p "$short"
# Every deterministic 0.17 program (stacks-profile is a shared 0.17 capture, not a program run here), plus the
# headers program written for 0.23.
names=${*:-"empty-maps helper-error hist keyed-avg-stats keys lhist print-top-div scalar-aggs stacks values headers"}
for name in $names; do
  [ -f "$short/$name.bt" ] || cp "0.17/$name.bt" "$short/$name.bt" 2>/dev/null || cp "0.23/$name.bt" "$short/$name.bt"
  extra=""
  if [ "$name" = stacks ]; then extra="-c '/usr/bin/sh -c true'"; fi
  if [ "$name" = helper-error ]; then extra="-k -c '/usr/bin/sh -c true'"; fi
  text_cmd="$bpftrace $extra $short/$name.bt"
  json_cmd="$bpftrace -f json $extra $short/$name.bt"
  eval "$text_cmd" > "$short/$name.txt" 2> /tmp/ktrace-capture.err || { cat /tmp/ktrace-capture.err >&2; exit 1; }
  eval "$json_cmd" > "$short/$name.json" 2> /tmp/ktrace-capture.err || { cat /tmp/ktrace-capture.err >&2; exit 1; }
  shown_text=$(printf '%s' "$text_cmd" | sed "s|^$bpftrace|bpftrace|; s|$short/||; s/\"/\\\\\"/g; s/  */ /g")
  shown_json=$(printf '%s' "$json_cmd" | sed "s|^$bpftrace|bpftrace|; s|$short/||; s/\"/\\\\\"/g; s/  */ /g")
  printf '{ "bpftrace": "%s", "command": "%s", "jsonCommand": "%s", "capturedWith": "%s" }\n' "$version" \
    "$shown_text" "$shown_json" "$bpftrace" > "$short/$name.meta.json"
  echo "$short/$name: $(wc -l < "$short/$name.txt") text lines, $(wc -l < "$short/$name.json") json lines" >&2
done
