#!/usr/bin/env bash
# Captures the JSON fixtures from the installed bpftrace: for each VERSION/NAME.bt, runs it with -f json and writes
# NAME.ndjson (stdout, unmodified) and NAME.meta.json (version, command line, exit status). Run as root.
# Usage: packages/parser/testdata/json/capture.sh [NAME...]
set -u
cd "$(dirname "$0")"
version=$(bpftrace --version | awk '{print $2}' | sed 's/^v//')
short=${version%.*}
dir=$short
for bt in "$dir"/*.bt; do
  name=$(basename "$bt" .bt)
  if [ $# -gt 0 ] && [[ ! " $* " =~ " $name " ]]; then continue; fi
  cmd="bpftrace -f json $dir/$name.bt"
  timeout -s TERM 20 bpftrace -f json "$bt" >"$dir/$name.ndjson" 2>/dev/null
  status=$?
  printf '{\n  "bpftrace": "%s",\n  "command": "%s",\n  "exitStatus": %d,\n  "capturedOn": "%s"\n}\n' \
    "v$version" "$cmd" "$status" "$(uname -r)" >"$dir/$name.meta.json"
  echo "$name: exit $status, $(wc -l <"$dir/$name.ndjson") lines"
done
