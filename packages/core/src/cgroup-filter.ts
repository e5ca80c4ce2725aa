// Restricting a bpftrace program to some cgroups (a pod's or a container's): each probe that runs in the traced
// task's context first returns unless `cgroup` is one of theirs. Inserted on the line of the probe's `{`, so
// bpftrace's error lines still point at the user's own lines.
import { KtraceError } from '@ktrace/parser';
import { probeList, scanCode } from './instrument.js';

/** Top-level blocks that are not probes (struct definitions, 0.2x config blocks, functions, macros). */
const notAProbe = /^(struct|union|enum|config|fn|macro|import|let)\b/;
/** Probes that do not run in a traced task (so its cgroup says nothing): left unfiltered. */
const contextFree = /^(BEGIN|END|interval:|i:|self:)/;

/**
 * Returns the program with a cgroup guard at the start of every probe body that runs in a task's context. A
 * block whose probe list mixes such probes with BEGIN, END or interval is left alone (its other probes would
 * otherwise lose their run): split such blocks to filter them.
 */
export function restrictToCgroups(source: string, cgroupIds: readonly bigint[]): string {
  if (cgroupIds.length === 0)
    throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: 'no cgroup to restrict the program to' });
  const guard = ` if (${cgroupIds.map((id) => `cgroup != ${id}`).join(' && ')}) { return; }`;
  const inserts: number[] = [];
  let header = '';
  scanCode(source, (i, depth) => {
    const c = source[i] ?? '';
    if (depth !== 0) return;
    if (c === '{') {
      const probes = probeList(header);
      if (probes !== '' && !notAProbe.test(probes) && !probes.split(',').some((p) => contextFree.test(p)))
        inserts.push(i + 1);
      header = '';
    } else if (c === '}') header = '';
    else header += c;
  });
  let out = source;
  for (const at of inserts.reverse()) out = `${out.slice(0, at)}${guard}${out.slice(at)}`;
  return out;
}
