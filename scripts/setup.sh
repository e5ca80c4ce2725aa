#!/usr/bin/env bash
# Brings a fresh Debian machine (as root) to where ktrace runs (`setup.sh run`: bpftrace) or is tested
# (`setup.sh test`: bpftrace, Prometheus and tmux, plus the other releases the live tests run, from scripts/versions.sh),
# with tracefs/debugfs and npm packages, and puts this checkout's `ktrace` on PATH (built, linked from /usr/local/bin).
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v bpftrace >/dev/null 2>&1 || need_apt+=(bpftrace)
if [ "${1:-test}" = test ]; then
  command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
  # The live view's end-to-end test runs ktrace in a tmux pane.
  command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ktrace setup: ${need_apt[*]} missing; run as root or: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "ktrace setup: installing ${need_apt[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Only the binaries are wanted: no recommended extras (node-exporter), and no system services started on
  # all interfaces (Debian's prometheus would listen on :9090); the tests start their own on loopback.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=true
  fi
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null || { $own_policy && rm -f "$policy"; exit 1; }
  if $own_policy; then rm -f "$policy"; fi
fi

if [ "$(id -u)" = 0 ]; then
  # bpftrace needs tracefs (tracepoints) and, on older kernels, debugfs.
  if [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then
    mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || echo "ktrace setup: could not mount tracefs" >&2
  fi
  if [ -d /sys/kernel/debug ] && ! mountpoint -q /sys/kernel/debug; then
    mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || echo "ktrace setup: could not mount debugfs" >&2
  fi
fi

# The test matrix: bpftrace 0.23.2 and 0.27.1 in their own roots, Prometheus/promtool 3.5.3 (cached after the first run).
if [ "${1:-test}" = test ]; then
  if [ "$(id -u)" = 0 ]; then
    bash scripts/versions.sh
  else
    echo "ktrace setup: not root, so bpftrace 0.23/0.27 and Prometheus 3 are not installed; the live tests run on what is installed (run: sudo bash scripts/versions.sh)" >&2
  fi
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ktrace setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# `ktrace` from any directory: the CLI built, and /usr/local/bin/ktrace a link to this checkout's (which stays current
# with every build). Another file there is left alone.
npx nx run @ktrace/cli:build --outputStyle=static
bin=/usr/local/bin/ktrace
cli="$PWD/packages/cli/bin/ktrace.js"
if [ "$(readlink "$bin" 2>/dev/null)" != "$cli" ]; then
  if [ -e "$bin" ] && [ ! -L "$bin" ]; then
    echo "ktrace setup: $bin is a file of its own, so it is left as it is; this checkout's CLI: npx ktrace" >&2
  elif [ -w "$(dirname "$bin")" ]; then
    ln -sfn "$cli" "$bin"
    echo "ktrace setup: $bin now runs $cli" >&2
  else
    echo "ktrace setup: to run ktrace from any directory: sudo ln -sfn $cli $bin" >&2
  fi
fi
