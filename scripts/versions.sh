#!/usr/bin/env bash
# Installs the newer bpftrace and Prometheus releases the live tests run against, without touching the system:
# bpftrace 0.23.2 (Debian trixie) and 0.27.1 (sid) each in a debootstrap root run through a chroot wrapper, and
# Prometheus/promtool 3.5.3 unpacked from sid's .debs. Idempotent; a second run only checks the cache.
# Usage: scripts/versions.sh [trixie|sid|prometheus3 ...]   (none: all). Prints nothing but progress on stderr.
set -euo pipefail
cache=${KTRACE_VERSIONS_CACHE:-/var/cache/ktrace}
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
mkdir -p "$cache/bin"

need() { command -v "$1" >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }; }

# Mounts an earlier wrapper left in the host's namespace under a root (it bind-mounted there directly).
unmount_stale() {
  local target
  findmnt -rn -o TARGET | awk -v r="$1/" 'index($0, r) == 1' | sort -r | while read -r target; do umount -l "$target" 2>/dev/null || true; done
}

root_for() { # suite -> a bpftrace wrapper at $cache/bin/bpftrace-<suite>
  local suite=$1 root=$cache/roots/$1 wrapper=$cache/bin/bpftrace-$1
  if [ ! -f "$root/.ktrace-complete" ]; then
    echo "ktrace versions: debootstrap $suite with bpftrace into $root (a few minutes, once)" >&2
    rm -rf "$root"
    debootstrap --variant=minbase --include=bpftrace "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 \
      || { echo "ktrace versions: debootstrap $suite failed; see $cache/debootstrap-$suite.log" >&2; return 1; }
    touch "$root/.ktrace-complete"
  fi
  unmount_stale "$root"
  # The wrapper mounts in a mount namespace of its own (unshare -m): the mounts vanish with the bpftrace process,
  # so nothing piles up on the host and nothing needs unmounting, even for an agent that runs for weeks or is
  # killed. unshare and chroot exec in place, so the wrapper's pid is bpftrace's and signals reach it directly.
  # Host paths a program or workload may name (/tmp, homes, /opt, /srv, top-level directories the root lacks such
  # as a checkout under /work, the caller's directory) are bound at the same place inside, so a program file, -I
  # dirs and uprobe paths mean what they mean on the host. System paths (/usr, /etc) are the root's own.
  cat >"$wrapper.new" <<EOF
#!/usr/bin/env bash
# bpftrace from Debian $suite, run in its own root on the host kernel (written by ktrace scripts/versions.sh).
set -e
root=$root
if [ "\${KTRACE_VERSIONS_NS:-}" != "\$\$" ]; then
  KTRACE_VERSIONS_NS=\$\$ exec unshare --mount --propagation private "\$0" "\$@"
fi
unset KTRACE_VERSIONS_NS
for d in proc sys dev tmp home root opt srv mnt media lib/modules usr/src; do
  if [ -d "/\$d" ] && [ ! -L "/\$d" ]; then mkdir -p "\$root/\$d" && mount --rbind "/\$d" "\$root/\$d"; fi
done
# Every other top-level host directory (a checkout under /work, /data…) is the host's; the system ones are the
# root's own, and the caller's directory under them is bound when the root has nothing there.
for d in /*/; do
  d=\${d%/}
  case \${d#/} in bin|boot|dev|etc|lib|lib32|lib64|libx32|proc|run|sbin|sys|tmp|usr|var|home|root|opt|srv|mnt|media|lost+found) continue ;; esac
  if [ -d "\$d" ] && [ ! -L "\$d" ]; then mkdir -p "\$root\$d" && mount --rbind "\$d" "\$root\$d"; fi
done
cwd=\$(pwd -P)
if [ ! -e "\$root\$cwd" ] || [ -z "\$(ls -A "\$root\$cwd" 2>/dev/null)" ]; then mkdir -p "\$root\$cwd" && mount --bind "\$cwd" "\$root\$cwd"; fi
exec unshare --root="\$root" --wd="\$cwd" /usr/bin/bpftrace "\$@"
EOF
  chmod +x "$wrapper.new"
  mv -f "$wrapper.new" "$wrapper"
}

prometheus3() {
  local dir=$cache/prometheus-3 lists=$cache/apt-sid
  if [ ! -x "$dir/usr/bin/prometheus" ] || [ ! -x "$dir/usr/bin/promtool" ]; then
    echo "ktrace versions: fetching Prometheus 3 and promtool from sid into $dir" >&2
    mkdir -p "$lists/lists/partial" "$lists/cache/archives/partial" "$lists/etc" "$dir"
    echo "deb $mirror sid main" >"$lists/etc/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$lists/etc/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$lists/lists"
      -o "Dir::Cache=$lists/cache" -o APT::Get::List-Cleanup=0)
    apt-get "${opts[@]}" update -qq
    (cd "$lists" && apt-get "${opts[@]}" download prometheus promtool >/dev/null 2>&1)
    for deb in "$lists"/prometheus_*.deb "$lists"/promtool_*.deb; do dpkg-deb -x "$deb" "$dir"; done
  fi
  ln -sf "$dir/usr/bin/prometheus" "$cache/bin/prometheus-3"
  ln -sf "$dir/usr/bin/promtool" "$cache/bin/promtool-3"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(trixie sid prometheus3)
# The roots are built side by side (a cold run is about as long as one debootstrap, ~2 min); each fails on its own.
for t in "${targets[@]}"; do
  case $t in trixie|sid) [ -f "$cache/roots/$t/.ktrace-complete" ] || need debootstrap debootstrap ;; esac
done
pids=()
for t in "${targets[@]}"; do
  case $t in
    trixie|sid) root_for "$t" & pids+=($!) ;;
    prometheus3) prometheus3 ;;
    *) echo "ktrace versions: unknown target $t (trixie, sid, prometheus3)" >&2; exit 2 ;;
  esac
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
