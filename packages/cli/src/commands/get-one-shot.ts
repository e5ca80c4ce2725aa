// How `ktrace get` shows one-shot traces beside continuous ones: a summary row per trace (target, state, Jobs
// running, failed), and per trace its Jobs (node, state, pod, reason).
import type { OneShotReport } from '@ktrace/core/kubernetes';

/** A row of get's summary table (NAME, NODES, RUNNING, FAILED, ERROR). */
export function oneShotRow(report: OneShotReport): string[] {
  const targets = [...new Set(report.jobs.map((j) => j.target.replace(/^(pod|deploy)\/[^/]+\/(.*)$/, '$1/$2')))];
  const states = [...new Set(report.jobs.map((j) => j.state))];
  const running = report.jobs.filter((j) => j.state === 'running').length;
  const failed = report.jobs.filter((j) => j.state === 'failed');
  return [
    report.name,
    `${targets.join(',')} (one-shot: ${states.join(',')})`,
    `${running}/${report.jobs.length}`,
    String(failed.length),
    failed[0]?.reason ?? '',
  ];
}

/** `ktrace get NAME` of a one-shot trace: one line per Job. */
export function oneShotDetail(report: OneShotReport, namespace: string): string[][] {
  const header = [['NODE', 'STATE', 'TARGET', 'JOB', 'POD', 'REASON']];
  return [
    ...header,
    ...report.jobs.map((j) => [j.node, j.state, j.target, `${namespace}/${j.job}`, j.pod ?? '-', j.reason ?? '']),
  ];
}
