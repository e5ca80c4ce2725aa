// `ktrace run TARGET …`: a one-shot trace in the cluster (node/NAME, pod/NAME[/CONTAINER], deploy/NAME). Reads the
// flags, resolves the target, starts a Job per node and waits (bounded) until bpftrace runs; with --attach shows
// the output; --dry-run prints the objects. The logic is @ktrace/core's one-shot modules; this file is the flags.
import { resolve } from 'node:path';
import { checkProgramText, maxProgramBytes, parseDuration, parseTraceSpec, readBoundedText } from '@ktrace/core';
import { DEFAULT_IMAGE, PRIVILEGES_PROFILES } from '@ktrace/core/kubernetes-defaults';
import {
  checkTraceName,
  defaultOneShotName,
  oneShotManifests,
  parseOneShotTarget,
  removeQuietly,
  resolveOneShotTarget,
  startOneShot,
  waitForStart,
} from '@ktrace/core/kubernetes';
import type { OneShotPlacement, OneShotRequest, PrivilegesProfile } from '@ktrace/core/kubernetes';
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor, namespaceFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';
import { showOneShotOutput } from '../one-shot-view.js';
import { outputFormat, render } from './apply.js';

interface RunRemoteOptions extends ClusterOptions {
  program?: string;
  file?: string;
  duration: string;
  interval?: string;
  stopTimeout: string;
  attach?: boolean;
  output?: string;
  dryRun?: boolean;
  name?: string;
  image: string;
  targetNamespace?: string;
  startTimeout: string;
  keep: string;
  otlpEndpoint?: string;
  privileges?: string;
}

const seconds = (text: string, flag: string): number => Math.max(1, Math.ceil(parseDuration(text, flag) / 1000));

function programOf(options: RunRemoteOptions): string {
  if ((options.program === undefined) === (options.file === undefined)) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: 'ktrace run TARGET needs the program: -e PROGRAM or -f FILE.bt (one of them)',
    });
  }
  let program = options.program ?? '';
  if (options.file !== undefined) {
    const what = `-f ${options.file}`;
    program = readBoundedText(resolve(options.file), { what, limit: maxProgramBytes, code: 'KTRACE_BAD_OPTION' });
    checkProgramText(program, what, 'KTRACE_BAD_OPTION');
  }
  // The checks a spec makes (not empty, flags, interval) here; bpftrace itself checks the program in the pod.
  parseTraceSpec({ program, ...(options.interval === undefined ? {} : { interval: options.interval }) });
  return program;
}

/** The `run` command for cluster targets; main.ts defines it instead of the local one when TARGET is given. */
export function defineRunRemote(command: Command): void {
  addClusterOptions(
    command
      .description(
        'Run a bpftrace program once in the cluster: a Job on the node (of the pod, of each pod of the deployment), stopped after --duration with its final map dump.',
      )
      .argument('<target>', 'node/NAME, pod/NAME[/CONTAINER] or deploy/NAME')
      .option('-e, --program <text>', 'the bpftrace program text')
      .option('-f, --file <file.bt>', 'a bpftrace program file')
      .option('--duration <duration>', 'stop after this long and print the final dump', '5m')
      .option('--interval <duration>', 'how often maps are printed (default 1s)')
      .option('--stop-timeout <duration>', 'how long bpftrace may take to print its final dump', '30s')
      .option('-a, --attach', 'stream the output until the trace ends (Ctrl-C stops it, final dump shown)')
      .option('-o, --output <format>', 'json: NDJSON samples with --attach; yaml|json: the objects with --dry-run')
      .option('--dry-run', 'print the Jobs and ConfigMaps that would be applied; a node target contacts no server')
      .option('--name <name>', 'the trace name (default: from the target, so a re-run replaces it)')
      .option('--image <image>', 'the ktrace agent image the Job runs', DEFAULT_IMAGE)
      .option('--target-namespace <ns>', 'the namespace of the pod or deployment (default: -n)')
      .option('--start-timeout <duration>', 'give up when bpftrace does not run within this long', '2m')
      .option('--keep <duration>', 'how long the finished Job and its pod log are kept', '24h')
      .option('--otlp-endpoint <url>', 'also push the samples as OTLP metrics from the pod')
      .option('--privileges <profile>', `the pod's privileges: ${PRIVILEGES_PROFILES.join(', ')}`),
  ).action(async (targetArg: string, options: RunRemoteOptions, command: Command) => {
    const ref = parseOneShotTarget(targetArg);
    const format = outputFormat(options.output);
    if (format === 'yaml' && options.dryRun !== true)
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: '-o yaml goes with --dry-run; with --attach use -o json',
      });
    if (options.privileges !== undefined && !(PRIVILEGES_PROFILES as readonly string[]).includes(options.privileges)) {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: `--privileges must be one of ${PRIVILEGES_PROFILES.join(', ')}`,
      });
    }
    const request: Omit<OneShotRequest, 'namespace'> = {
      trace: options.name === undefined ? defaultOneShotName(ref) : checkTraceName(options.name, '--name'),
      image: options.image,
      program: programOf(options),
      durationSeconds: seconds(options.duration, '--duration'),
      stopTimeoutSeconds: seconds(options.stopTimeout, '--stop-timeout'),
      keepSeconds: seconds(options.keep, '--keep'),
      ...(options.interval === undefined ? {} : { interval: options.interval }),
      ...(options.otlpEndpoint === undefined ? {} : { otlpEndpoint: options.otlpEndpoint }),
      ...(options.privileges === undefined ? {} : { privileges: options.privileges as PrivilegesProfile }),
    };
    const startTimeoutMillis = parseDuration(options.startTimeout, '--start-timeout');
    if (options.dryRun === true) {
      // A node target needs nothing from the server; a pod or deployment is read (never written) for its nodes.
      const namespace = await namespaceFor(options);
      const placements: OneShotPlacement[] =
        ref.kind === 'node'
          ? [{ node: ref.name, target: { kind: 'node' } }]
          : await resolveOneShotTarget(await kubeClientFor(options), ref, options.targetNamespace ?? namespace);
      const objects = oneShotManifests({ ...request, namespace }, placements);
      process.stdout.write(await render({ apiVersion: 'v1', kind: 'List', items: objects }, format ?? 'yaml'));
      return;
    }
    const client = await kubeClientFor(options);
    const placements = await resolveOneShotTarget(client, ref, options.targetNamespace ?? client.namespace);
    const jobs = await startOneShot(client, { ...request, namespace: client.namespace }, placements);
    try {
      await Promise.all(jobs.map((job) => waitForStart(client, job, { timeoutMillis: startTimeoutMillis })));
    } catch (error) {
      await removeQuietly(
        client,
        jobs.filter((j) => j.outcome === 'created'),
      );
      throw error;
    }
    const announce = (): void => {
      for (const job of jobs) {
        process.stderr.write(
          `trace/${request.trace} ${job.outcome === 'created' ? 'started' : 'already running'} on node ${job.node} (job ${client.namespace}/${job.job})\n`,
        );
      }
    };
    if (options.attach !== true) {
      announce();
      process.stderr.write(
        `ktrace logs ${request.trace}${command.getOptionValue('namespace') === undefined ? '' : ` -n ${client.namespace}`} -f shows its output\n`,
      );
      return;
    }
    const status = await showOneShotOutput(client, jobs, {
      json: format === 'json',
      follow: true,
      stopOnInterrupt: true,
      stopWaitMillis: (request.stopTimeoutSeconds ?? 30) * 1000 + 15_000,
      // A Ctrl-C right after "started" must stop the trace, not kill ktrace before it handles the signal.
      onInterruptible: announce,
    });
    process.exit(status);
  });
}
