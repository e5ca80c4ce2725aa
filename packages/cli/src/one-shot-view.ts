// Shows a one-shot trace's output (`ktrace run TARGET --attach`, `ktrace logs`): its pods' logs followed or read,
// maps drawn with the local live view and printed as a final summary, or NDJSON samples with -o json; the final
// dump saved into the trace's ConfigMap, and shown from there once the pod is gone. Ctrl-C stops the trace.
import type { KubeClient, OneShotLine, OneShotPodState } from '@ktrace/core/kubernetes';
import {
  LatestMaps,
  exitError,
  followPodLog,
  jobPod,
  podState,
  readFinalDump,
  readPodLog,
  saveFinalDump,
  stopOneShot,
} from '@ktrace/core/kubernetes';
import type { MapSample } from '@ktrace/parser';
import { renderLiveView } from './live-view.js';

export interface TraceJob {
  node: string;
  job: string;
  uid: string;
}

export interface ShowOptions {
  json: boolean;
  /** Follow running pods until they exit (--attach, logs -f); else print what there is. */
  follow: boolean;
  /** Ctrl-C stops the remote trace (and the final dump is still awaited and shown). */
  stopOnInterrupt: boolean;
  /** How long to wait for the final dump after Ctrl-C: the pod's stop timeout and grace. */
  stopWaitMillis: number;
  /** Called once Ctrl-C is handled: what is announced after it (the trace started) can be answered with Ctrl-C. */
  onInterruptible?: () => void;
}

interface NodeOutput {
  ref: TraceJob;
  maps: LatestMaps;
  lines: OneShotLine[];
  state?: OneShotPodState;
  fromConfigMap: boolean;
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

async function settledState(client: KubeClient, ref: TraceJob, until: number): Promise<OneShotPodState> {
  for (;;) {
    const state = podState(await jobPod(client, ref.job, ref.uid));
    if (state.phase !== 'running' || Date.now() >= until) return state;
    await sleep(200);
  }
}

function render(output: NodeOutput, title: string): string {
  const lines = renderLiveView({
    header: title,
    maps: output.maps.maps,
    notes: [],
    columns: process.stdout.columns || 100,
    rows: 100_000,
  });
  return `${lines.join('\n')}\n`;
}

/** Reads, follows and shows the trace's output; returns the exit status (0 clean, 2 the program failed, 1 otherwise). */
export async function showOneShotOutput(
  client: KubeClient,
  jobs: readonly TraceJob[],
  options: ShowOptions,
): Promise<number> {
  const live = !options.json && options.follow && process.stdout.isTTY === true;
  const outputs: NodeOutput[] = jobs.map((ref) => ({ ref, maps: new LatestMaps(), lines: [], fromConfigMap: false }));
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) {
      process.stderr.write('ktrace: interrupted again: not waiting for the final dump\n');
      process.exit(130);
    }
    interrupted = true;
    if (!options.stopOnInterrupt) {
      abort.abort();
      return;
    }
    process.stderr.write('ktrace: stopping the trace; waiting for its final dump (Ctrl-C again to leave now)\n');
    setTimeout(() => abort.abort(), options.stopWaitMillis).unref();
    void stopOneShot(client, jobs).catch((error: unknown) => {
      process.stderr.write(
        `ktrace: could not stop the trace: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      abort.abort();
    });
  };
  if (options.follow) process.on('SIGINT', onSigint);
  options.onInterruptible?.();
  const draw = (): void => {
    const header = `ktrace · ${jobs.map((j) => j.node).join(', ')} · ${new Date().toLocaleTimeString()}${interrupted ? ' · stopping' : ''}`;
    const maps = new Map<string, MapSample>();
    for (const output of outputs)
      for (const [name, sample] of output.maps.maps)
        maps.set(jobs.length === 1 ? name : `${output.ref.node} ${name}`, sample);
    process.stdout.write(
      `\x1b[H\x1b[2J${renderLiveView({ header, maps, notes: [], columns: process.stdout.columns || 100, rows: process.stdout.rows || 40 }).join('\n')}\n`,
    );
  };
  const timer = live ? setInterval(draw, 1000) : undefined;
  const take = (output: NodeOutput, line: OneShotLine): void => {
    output.lines.push(line);
    if (line.kind === 'sample') {
      output.maps.add(line.sample);
      if (options.json) process.stdout.write(`${JSON.stringify({ node: output.ref.node, ...line.sample })}\n`);
    } else if (line.kind === 'log' && (line.level === 'warn' || line.level === 'error')) {
      if (!live) process.stderr.write(`${output.ref.node}: ${line.level}: ${line.msg}\n`);
    } else if (line.kind === 'text' && !live) process.stderr.write(`${output.ref.node}: ${line.text}\n`);
  };
  try {
    await Promise.all(
      outputs.map(async (output) => {
        const state = podState(await jobPod(client, output.ref.job, output.ref.uid));
        if (state.pod === undefined) return;
        if (options.follow && state.phase === 'running') {
          for await (const line of followPodLog(client, state.pod, abort.signal)) take(output, line);
        } else {
          for (const line of await readPodLog(client, state.pod)) take(output, line);
        }
        output.state = await settledState(
          client,
          output.ref,
          Date.now() + (interrupted ? options.stopWaitMillis : 5000),
        );
      }),
    );
  } finally {
    if (timer !== undefined) clearInterval(timer);
    process.off('SIGINT', onSigint);
  }
  let status = 0;
  for (const output of outputs) {
    const { ref } = output;
    if (output.state === undefined || output.maps.size === 0) {
      // The pod is gone (or printed no map): show the final dump an earlier reader saved.
      const configMap = await client
        .call({ verb: 'get', resource: 'configmaps', name: ref.job, namespace: client.namespace }, () =>
          client.core.readNamespacedConfigMap({ name: ref.job, namespace: client.namespace }),
        )
        .catch(() => undefined);
      for (const sample of readFinalDump(configMap) ?? []) {
        output.maps.add(sample);
        output.fromConfigMap = true;
        if (options.json) process.stdout.write(`${JSON.stringify({ node: ref.node, ...sample })}\n`);
      }
    }
    const ended = output.state?.phase === 'exited' || interrupted;
    if (output.state?.phase === 'exited' && output.state.exitCode !== 0) {
      const error = exitError(ref.node, output.state, output.lines);
      process.stderr.write(`ktrace: ${error.message}\n`);
      status = Math.max(status, error.code === 'KTRACE_BAD_PROGRAM' ? 2 : 1);
    }
    if (ended && !output.fromConfigMap && output.maps.size > 0) {
      await saveFinalDump(client, ref.job, output.maps).catch((error: unknown) => {
        process.stderr.write(
          `ktrace: the final dump of node ${ref.node} could not be saved in configmap ${ref.job}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      });
    }
    if (options.json) continue;
    if (output.maps.size === 0) {
      process.stdout.write(
        `node ${ref.node}: no map output${output.state === undefined ? ' (the pod is gone and no final dump was saved)' : ''}\n`,
      );
      continue;
    }
    const what = output.fromConfigMap
      ? 'final dump (saved)'
      : ended
        ? 'final dump'
        : output.state?.phase === 'running'
          ? 'latest dump (still running)'
          : 'latest dump';
    process.stdout.write(render(output, `ktrace · node ${ref.node} · job ${ref.job} · ${what}`));
  }
  return status;
}
