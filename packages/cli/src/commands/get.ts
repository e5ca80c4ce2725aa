// `ktrace get [NAME]`: the cluster's traces and, per node, whether its agent runs each and how (state, attached
// probes, last dump, restarts, error). A table by default; -o yaml|json for the whole report.
import type { LabelSelector, NodeTraceReport, TraceReport } from '@ktrace/core/kubernetes';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';
import { outputFormat, render } from './apply.js';
import { oneShotDetail, oneShotRow } from './get-one-shot.js';

interface GetOptions extends ClusterOptions {
  output?: string;
}

function ago(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '-';
  return seconds < 120
    ? `${seconds}s ago`
    : seconds < 7200
      ? `${Math.round(seconds / 60)}m ago`
      : `${Math.round(seconds / 3600)}h ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function nodeState(node: NodeTraceReport): string {
  return node.stale
    ? `${node.state} (agent silent since ${ago(node.updatedAt, Date.now())})`
    : node.outdated
      ? `${node.state} (older version)`
      : node.state;
}

function summary(report: TraceReport, formatLabelSelector: (selector: LabelSelector | undefined) => string): string[] {
  const running = report.nodes.filter((n) => n.state === 'running' && !n.stale).length;
  const failed = report.nodes.filter((n) => n.state === 'failed' || n.state === 'invalid').length;
  const selected = report.nodes.filter((n) => n.state !== 'skipped').length;
  const firstError = report.error ?? report.nodes.find((n) => n.error !== undefined)?.error ?? '';
  return [
    report.name,
    report.error === undefined ? formatLabelSelector(report.trace?.nodeSelector) || '<all>' : '-',
    `${running}/${selected}`,
    String(failed),
    firstError.split('\n')[0] ?? '',
  ];
}

export function defineGet(command: Command): void {
  addClusterOptions(
    command
      .argument('[name]', 'one trace: show every node')
      .option('-o, --output <format>', 'yaml or json: the whole report'),
  ).action(async (name: string | undefined, options: GetOptions) => {
    const format = outputFormat(options.output);
    const { formatLabelSelector, listOneShotReports, listTraceReports } = await import('@ktrace/core/kubernetes');
    const client = await kubeClientFor(options);
    const oneShots = await listOneShotReports(client, name);
    if (name !== undefined && oneShots[0] !== undefined) {
      if (format !== undefined) process.stdout.write(await render({ ...oneShots[0], kind: 'one-shot' }, format));
      else
        process.stdout.write(
          `one-shot trace ${name} in namespace ${client.namespace}\n${table(oneShotDetail(oneShots[0], client.namespace))}`,
        );
      return;
    }
    const reports = await listTraceReports(client, name);
    if (format !== undefined) {
      const plain = reports.map((r) => ({
        name: r.name,
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.trace === undefined ? {} : { document: r.trace.document, digest: r.trace.digest }),
        nodes: r.nodes,
      }));
      process.stdout.write(
        await render(
          name === undefined ? { namespace: client.namespace, traces: plain, oneShotTraces: oneShots } : plain[0],
          format,
        ),
      );
      return;
    }
    if (name === undefined) {
      if (reports.length === 0 && oneShots.length === 0) {
        process.stdout.write(`no traces in namespace ${client.namespace}\n`);
        return;
      }
      process.stdout.write(
        table([
          ['NAME', 'NODES', 'RUNNING', 'FAILED', 'ERROR'],
          ...reports.map((r) => summary(r, formatLabelSelector)),
          ...oneShots.map(oneShotRow),
        ]),
      );
      return;
    }
    const report = reports[0] as TraceReport;
    const now = Date.now();
    process.stdout.write(`trace ${report.name} in namespace ${client.namespace}\n`);
    if (report.error !== undefined) process.stdout.write(`invalid: ${report.error}\n`);
    else
      process.stdout.write(
        `nodes: ${formatLabelSelector(report.trace?.nodeSelector) || '<all>'}   interval: ${report.trace?.spec.intervalMillis ?? '?'}ms\n`,
      );
    if (report.nodes.length === 0) {
      process.stdout.write('no agent reports this trace yet\n');
      return;
    }
    process.stdout.write(
      table([
        ['NODE', 'STATE', 'PROBES', 'LAST DUMP', 'RESTARTS', 'SERIES', 'ERROR'],
        ...report.nodes.map((n) => [
          n.node,
          nodeState(n),
          n.attachedProbes === undefined ? '-' : String(n.attachedProbes),
          ago(n.lastDumpAt, now),
          String(n.restarts ?? 0),
          n.series === undefined ? '-' : String(n.series),
          (n.error ?? n.reason ?? '').split('\n')[0] ?? '',
        ]),
      ]),
    );
  });
}
