#!/usr/bin/env python3
"""Writes the hand-made text fixtures for bpftrace versions that cannot run here (0.20, 0.22, 0.23, 0.24, 0.26).

The TEXT is rendered with Python ports of bpftrace's own printing code at each tag (cited per function), and the
EXPECTED samples are computed independently from the data the program puts in each map (the bucket a value falls
in is plain arithmetic, not a parsed label). So a fixture checks the reader against bpftrace's formatting rules,
not against itself. Run from this directory: python3 render-from-source.py
"""
import json, math, os

# ---- bpftrace's label printing ------------------------------------------------------------------------------

def hist_index_label(index, k):
    """src/output.cpp TextOutput::hist_index_label (0.20-0.23) == src/types_format.cpp (0.24+)."""
    n = 1 << k
    interval = index & (n - 1)
    power = (index >> k) - 1
    decade = power // 10
    suffix = "\0KMGTPE"[decade]
    power -= 10 * decade
    return str((1 << power) * (n + interval)) + ("" if suffix == "\0" else suffix)

def hist_index_value(index, k):
    n = 1 << k
    return (1 << ((index >> k) - 1)) * (n + (index & (n - 1)))

def hist_index(v, k):
    """The bucket index of value v (bpftrace's hist index layout; 0 = negative)."""
    if v < 0:
        return 0
    if v < (2 << k):
        return v + 1
    i = (2 << k) + 1
    while not (hist_index_value(i - 1, k) <= v < hist_index_value(i, k)):
        i += 1
    return i

def hist_label(i, k, v24):
    if i == 0:
        return "(..., 0)"
    if i <= (2 << k):
        return "[%d]" % (i - 1)
    return "[%s, %s)" % (hist_index_label(i - 1, k) if i - 1 > (2 << k) else str(i - 1), hist_index_label(i, k))

def hist_bounds(i, k):
    if i == 0:
        return (None, -1)
    if i <= (2 << k):
        return (i - 1, i - 1)
    lo = hist_index_value(i - 1, k) if i - 1 > (2 << k) else i - 1
    return (lo, hist_index_value(i, k) - 1)

def lhist_index_label(number, step, version):
    """≤0.20: any edge divisible by 1024 gets K/M; ≥0.21 (c44d010): only when step % 1024 == 0."""
    if version >= (0, 21) and step % 1024 != 0:
        return str(number)
    if number == 0:
        return "0"
    if number % 1048576 == 0:
        return "%dM" % (number // 1048576)
    if number % 1024 == 0:
        return "%dK" % (number // 1024)
    return str(number)

def lhist_label(i, mn, mx, step, version):
    buckets = (mx - mn) // step
    lab = lambda x: lhist_index_label(x, step, version)
    if i == 0:
        return "(..., %s)" % lab(mn)
    if i == buckets + 1:
        return "[%s, ...)" % lab(mx)
    lo, hi = (i - 1) * step + mn, i * step + mn
    # 0.24+ prints "[lo]" when both edges are plain adjacent integers (text.cpp single_value).
    if version >= (0, 24) and step % 1024 != 0 and hi == lo + 1:
        return "[%d]" % lo
    return "[%s, %s)" % (lab(lo), lab(hi))

def lhist_bounds(i, mn, mx, step):
    buckets = (mx - mn) // step
    if i == 0:
        return (None, mn - 1)
    if i == buckets + 1:
        return (mx, None)
    return ((i - 1) * step + mn, i * step + mn - 1)

def lhist_index(v, mn, mx, step):
    if v < mn:
        return 0
    if v >= mx:
        return (mx - mn) // step + 1
    return (v - mn) // step + 1

def bucket_line(label, count, max_count):
    """setw(16) left label, setw(8) right count, " |", setw(52) left bar, "|" (same in every version)."""
    bar = "@" * int(count / max_count * 52)
    return "%-16s%8d |%-52s|" % (label, count, bar)

# ---- a map's printed block and expected sample -----------------------------------------------------------

def histogram(values, spec, version):
    """values -> (bucket lines, expected buckets): printed from the first to the last non-zero bucket."""
    counts = {}
    for v in values:
        i = hist_index(v, spec[1]) if spec[0] == "hist" else lhist_index(v, *spec[1:])
        counts[i] = counts.get(i, 0) + 1
    if not counts:
        return [], []
    lo, hi = min(counts), max(counts)
    mx = max(counts.values())
    lines, buckets = [], []
    for i in range(lo, hi + 1):
        c = counts.get(i, 0)
        if spec[0] == "hist":
            label, (bmin, bmax) = hist_label(i, spec[1], version >= (0, 24)), hist_bounds(i, spec[1])
        else:
            label, (bmin, bmax) = lhist_label(i, *spec[1:], version), lhist_bounds(i, *spec[1:])
        lines.append(bucket_line(label, c, mx))
        buckets.append({"min": bmin, "max": bmax, "count": c})
    return lines, buckets

def key_text(key):
    return ", ".join(str(k) for k in key)

def render_map(m, version, final):
    """One map as bpftrace prints it, and the sample the reader must produce."""
    name, kind, entries = m["name"], m["kind"], m["entries"]
    old = version < (0, 24)
    out, sample_entries = [], []
    if not entries:
        # ≤0.23 prints a blank line for an empty map (two for avg/stats); ≥0.24 prints nothing.
        if old:
            out += ["", ""] if kind in ("avg", "stats") else [""]
        return out, None
    if kind in ("hist", "lhist"):
        spec = m["spec"]
        for key, values in entries:
            head = name + ("[%s]" % key_text(key) if key is not None else "") + ":"
            if version <= (0, 22):
                head += " "
            lines, buckets = histogram(values, spec, version)
            out += [head] + lines + [""]
            sample_entries.append({"key": list(key) if key is not None else [], "buckets": buckets})
    else:
        for key, value in entries:
            head = name + ("[%s]" % key_text(key) if key is not None else "")
            if kind == "stats":
                c, t = len(value), sum(value)
                a = int(t / c)
                text = ("count %d, average %d, total %d" if old else "{ .count = %d, .average = %d, .total = %d }") % (c, a, t)
                sample_entries.append({"key": list(key) if key is not None else [], "stats": {"count": c, "average": a, "total": t}})
            elif kind == "avg":
                a = int(sum(value) / len(value))
                text = str(a)
                sample_entries.append({"key": list(key) if key is not None else [], "value": a})
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                expected = m.get("expect", {}).get(json.dumps(key), value)
                sample_entries.append({"key": list(key) if key is not None else [], "value": expected})
            if "stack_key" in m:
                out += m["stack_key"](key, text)
            else:
                out.append("%s: %s" % (head, text))
        if old and kind in ("avg", "stats"):
            out.append("")
    sample = {"type": "map", "name": name, "kind": kind, "entries": sample_entries}
    if final:
        sample["final"] = True
    return out, sample

# ---- the fixtures --------------------------------------------------------------------------------------------

def write(version_dir, name, version, program, source, stream, meta_note):
    os.makedirs(version_dir, exist_ok=True)
    lines, events = [], []
    for item in stream:
        if item[0] == "line":
            lines.append(item[1])
            if item[2] is not None:
                events.append(item[2])
        elif item[0] == "maps":
            for m in item[1]:
                out, sample = render_map(m, version, item[2])
                lines += out
                if sample is not None:
                    events.append(sample)
    base = os.path.join(version_dir, name)
    open(base + ".txt", "w").write("\n".join(lines) + "\n")
    open(base + ".bt", "w").write(program)
    json.dump(events, open(base + ".expected.json", "w"), indent=1)
    open(base + ".expected.json", "a").write("\n")
    json.dump({"bpftrace": "v%d.%d (hand-written)" % version, "command": "bpftrace %s.bt" % name,
               "source": source, "note": meta_note}, open(base + ".meta.json", "w"), indent=1)
    open(base + ".meta.json", "a").write("\n")

def attaching(n):
    return ("line", "Attaching %d probe%s..." % (n, "" if n == 1 else "s"), {"type": "attached", "probes": n})

EXIT = [("line", "", None), ("line", "", None)]  # the "\n\n" bpftrace prints before the exit-time dump

def stack_key_renderer(name, indent, frames_of):
    """Stack keys: "\\n" + indent+frame per line + "\\n", then ", next" or "]: value" (0.17-0.21: 4 spaces, 0.22+: 8)."""
    def render(key, text):
        lines = [name + "["]
        for part_i, part in enumerate(key):
            frames = frames_of.get((part_i, part))
            if frames is None:
                if part_i == 0:
                    lines[-1] += str(part)
                else:
                    lines[-1] += ", " + str(part)
                continue
            if part_i > 0:
                lines[-1] += ", "
            lines += [" " * indent + f for f in frames]
            lines.append("")
        lines[-1] += "]: " + text
        return lines
    return render

# 0.20: hist(x, k), hist beyond 4G, lhist K-suffix mixing of ≤0.20, `@h: ` headers with a trailing space.
P20 = """// hist(x, k) (0.20+), values above 4G (0.20+ no longer clamps), and lhist labels mixing plain and K edges.
BEGIN
{
  @k1 = hist(0, 1); @k1 = hist(3, 1); @k1 = hist(5, 1); @k1 = hist(7, 1);
  @k1 = hist(1500, 1); @k1 = hist(1600, 1); @k1 = hist(2500, 1);
  @k2["x"] = hist(9, 2); @k2["x"] = hist(4500, 2);
  @big = hist(5000000000); @big = hist(5000000000); @big = hist(1200000000000);
  @lk = lhist(630500, 0, 1000000, 10000); @lk = lhist(645000, 0, 1000000, 10000);
  exit();
}
"""
write("0.20", "hist-k", (0, 20), P20,
      "src/output.cpp at v0.20.0: TextOutput::hist_to_str, hist_index_label, lhist_to_str, lhist_index_label, map_key_val",
      [attaching(1)] + EXIT + [("maps", [
          {"name": "@big", "kind": "hist", "spec": ("hist", 0), "entries": [(None, [5000000000, 5000000000, 1200000000000])]},
          {"name": "@k1", "kind": "hist", "spec": ("hist", 1), "entries": [(None, [0, 3, 5, 7, 1500, 1600, 2500])]},
          {"name": "@k2", "kind": "hist", "spec": ("hist", 2), "entries": [(("x",), [9, 4500])]},
          {"name": "@lk", "kind": "lhist", "spec": ("lhist", 0, 1000000, 10000), "entries": [(None, [630500, 645000])]},
      ], True)],
      "Hand-written from the source (render-from-source.py): no 0.20 binary here.")

# 0.22: 8-space stack keys, ≥0.21 lhist labels (plain unless step % 1024 == 0), `@h: ` still has its trailing space,
# avg/stats end with a blank line, empty maps print a blank line.
P22 = """// 0.22 text: stack keys indented by 8 spaces, lhist labels after c44d010, avg/stats blank lines, empty maps.
tracepoint:syscalls:sys_enter_getppid
{
  @ks[kstack(2)] = count();
  @us[ustack(1), comm] = count();
  @cks[comm, kstack(1)] = count();
}
tracepoint:syscalls:sys_enter_exit_group
{
  printf("done\\n");
  @lp = lhist(630500, 0, 1000000, 10000);
  @lq = lhist(1500, 0, 4096, 1024);
  @av[comm] = avg(10);
  @st[1, "a b"] = stats(5);
  @h[comm] = hist(100);
  if (pid == 1) { @never = count(); }
  exit();
}
"""
frames22 = {(0, "perf_syscall_enter+397\nsyscall_trace_enter+384"): ["perf_syscall_enter+397", "syscall_trace_enter+384"],
            (0, "0x7fe48960e409"): ["0x7fe48960e409"],
            (1, "do_syscall_64+69"): ["do_syscall_64+69"]}
write("0.22", "stacks-lhist", (0, 22), P22,
      "src/output.cpp at v0.22.0: TextOutput::map_key_val, map_elem_delim, lhist_index_label (c44d010), stack printing with 8-space indent (#3186)",
      [attaching(2), ("line", "done", {"type": "text", "source": "printf", "text": "done"})] + EXIT + [("maps", [
          {"name": "@av", "kind": "avg", "entries": [(("sh",), [10])]},
          {"name": "@cks", "kind": "count", "entries": [(("sh", "do_syscall_64+69"), 1)],
           "stack_key": stack_key_renderer("@cks", 8, frames22)},
          {"name": "@h", "kind": "hist", "spec": ("hist", 0), "entries": [(("sh",), [100])]},
          {"name": "@ks", "kind": "count", "entries": [(("perf_syscall_enter+397\nsyscall_trace_enter+384",), 3)],
           "stack_key": stack_key_renderer("@ks", 8, frames22)},
          {"name": "@lp", "kind": "lhist", "spec": ("lhist", 0, 1000000, 10000), "entries": [(None, [630500])]},
          {"name": "@lq", "kind": "lhist", "spec": ("lhist", 0, 4096, 1024), "entries": [(None, [1500])]},
          {"name": "@never", "kind": "count", "entries": []},
          {"name": "@st", "kind": "stats", "entries": [((1, "a b"), [5])]},
          {"name": "@us", "kind": "count", "entries": [(("0x7fe48960e409", "sh"), 1)],
           "stack_key": stack_key_renderer("@us", 8, frames22)},
      ], True)],
      "Hand-written from the source (render-from-source.py): no 0.22 binary here. Stack frames are made up.")

# 0.23: `@h:` without the trailing space (431466574), everything else as 0.22.
P23 = """// 0.23 text: hist headers lose their trailing space; a print() during the run, then the exit-time dump.
interval:s:1
{
  @h = hist(3); @h = hist(20); @h = hist(21);
  @kh["read"] = hist(100); @kh["write"] = hist(7); @kh["write"] = hist(9);
  @st["x"] = stats(10); @st["x"] = stats(20);
  @c["b"] = count(); @c["a"] = count(); @c["a"] = count();
  print(@h);
  print(@c);
  exit();
}
"""
write("0.23", "headers", (0, 23), P23,
      "src/output.cpp at v0.23.0: TextOutput::map_key_val (no space after ':' for hist, commit 431466574), map_stats_contents",
      [attaching(1), ("maps", [
          {"name": "@h", "kind": "hist", "spec": ("hist", 0), "entries": [(None, [3, 20, 21])]},
          {"name": "@c", "kind": "count", "entries": [(("b",), 1), (("a",), 2)]},
      ], False)] + EXIT + [("maps", [
          {"name": "@c", "kind": "count", "entries": [(("b",), 1), (("a",), 2)]},
          {"name": "@h", "kind": "hist", "spec": ("hist", 0), "entries": [(None, [3, 20, 21])]},
          {"name": "@kh", "kind": "hist", "spec": ("hist", 0), "entries": [(("read",), [100]), (("write",), [7, 9])]},
          {"name": "@st", "kind": "stats", "entries": [(("x",), [10, 20])]},
      ], True)],
      "Hand-written from the source (render-from-source.py): no 0.23 binary here.")

# 0.24: the new output engine. No Attaching on stdout, stats as a record, no blank line after avg/stats, empty maps
# print nothing, step-1 lhist buckets print as [X], bools, stack values on the lines after the key.
P24 = """// 0.24 text (src/output/text.cpp): stats records, no avg/stats blank lines, empty maps print nothing.
BEGIN
{
  @av["p"] = avg(10); @av["q"] = avg(-20); @av["q"] = avg(-21);
  @st = stats(1); @st = stats(2); @st = stats(3);
  @kst["k", 2] = stats(-4);
  @l1 = lhist(5, 0, 10, 1); @l1 = lhist(6, 0, 10, 1); @l1 = lhist(6, 0, 10, 1); @l1 = lhist(20, 0, 10, 1);
  @lk = lhist(1500, 0, 4096, 1024);
  @b = true;
  @t = (1, "two", (3, -4));
  if (pid == 1) { @never = count(); }
  print(@av);
  exit();
}
"""
write("0.24", "new-engine", (0, 24), P24,
      "src/output/text.cpp at v0.24.0: TextOutput::map, emit_map, TextEmitter<Value::Histogram> (single_value), TextEmitter<Primitive::Record>; tests/runtime/call 'stats' (@stats: { .count = 3, .average = 2, .total = 6 })",
      [("maps", [
          {"name": "@av", "kind": "avg", "entries": [(("q",), [-20, -21]), (("p",), [10])]},
      ], False)] + EXIT + [("maps", [
          {"name": "@av", "kind": "avg", "entries": [(("q",), [-20, -21]), (("p",), [10])]},
          {"name": "@b", "kind": "value", "entries": [(None, True)], "expect": {"null": "true"}},
          {"name": "@kst", "kind": "stats", "entries": [(("k", 2), [-4])]},
          {"name": "@l1", "kind": "lhist", "spec": ("lhist", 0, 10, 1), "entries": [(None, [5, 6, 6, 20])]},
          {"name": "@lk", "kind": "lhist", "spec": ("lhist", 0, 4096, 1024), "entries": [(None, [1500])]},
          {"name": "@never", "kind": "count", "entries": []},
          {"name": "@st", "kind": "stats", "entries": [(None, [1, 2, 3])]},
          {"name": "@t", "kind": "value", "entries": [(None, "(1, two, (3, -4))")], "expect": {"null": [1, "two", [3, -4]]}},
      ], True)],
      "Hand-written from the source (render-from-source.py): no 0.24 binary here. 0.24 prints Attached/Lost on stderr, so stdout has neither.")

# 0.26: subtraction yields int64 (#5138), so a negative result prints negative; print(@m[k]) prints a bare value.
P26 = """// 0.26 text: a subtraction prints negative (int64), print(@m[key]) prints the bare value, hist(x, 3).
BEGIN
{
  @d = 5 - 10;
  @c["a"] = count(); @c["b"] = count(); @c["b"] = count();
  print(@c["b"]);
  @h3 = hist(17, 3); @h3 = hist(18, 3); @h3 = hist(40, 3); @h3 = hist(1000000, 3);
  exit();
}
"""
write("0.26", "int64", (0, 26), P26,
      "src/output/text.cpp and src/types_format.cpp at v0.26.0 (hist_index_label, build_histogram); CHANGELOG 0.26.0 (#5138 subtraction is int64)",
      [("line", "2", {"type": "text", "source": "printf", "text": "2"})] + EXIT + [("maps", [
          {"name": "@c", "kind": "count", "entries": [(("a",), 1), (("b",), 2)]},
          {"name": "@d", "kind": "value", "entries": [(None, -5)]},
          {"name": "@h3", "kind": "hist", "spec": ("hist", 3), "entries": [(None, [17, 18, 40, 1000000])]},
      ], True)],
      "Hand-written from the source (render-from-source.py): no 0.26 binary here.")
