// What a one-shot trace's pod prints, read back: each log line classified (an NDJSON map sample of `ktrace run
// --output json`, one of its JSON log records, its fatal `ktrace: …` line, other text), and the final dump kept
// in the Job's ConfigMap so it stays readable after the pod is gone.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import type { MapSample } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';

export type OneShotLine =
  | { kind: 'sample'; sample: MapSample }
  | { kind: 'log'; level: string; msg: string; record: Record<string, unknown> }
  | { kind: 'fatal'; message: string }
  | { kind: 'text'; text: string };

/** The ConfigMap key where the last sample of each map is kept, one JSON sample per line. */
export const finalDumpKey = 'final-dump.ndjson';
/** ConfigMaps hold at most 1 MiB; the program and metadata need some of it. */
const finalDumpMaxBytes = 900 * 1024;

/** Classifies one line of the pod's log. */
export function readOneShotLine(line: string): OneShotLine {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(trimmed) as Record<string, unknown>;
      if (value['type'] === 'map' && typeof value['name'] === 'string' && Array.isArray(value['entries']))
        return { kind: 'sample', sample: value as unknown as MapSample };
      if (typeof value['level'] === 'string' && typeof value['msg'] === 'string')
        return { kind: 'log', level: value['level'], msg: value['msg'], record: value };
    } catch {
      // not JSON after all: shown as text
    }
  }
  if (trimmed.startsWith('ktrace: ')) return { kind: 'fatal', message: trimmed.slice('ktrace: '.length) };
  return { kind: 'text', text: line };
}

/** Splits a byte stream into lines (the last, unterminated one when the stream ends). */
export async function* logLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline = rest.indexOf('\n');
    while (newline !== -1) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      newline = rest.indexOf('\n');
    }
  }
  if (rest !== '') yield rest;
}

/** The latest sample of each map, in first-seen order: what a final dump is. */
export class LatestMaps {
  readonly maps = new Map<string, MapSample>();

  add(sample: MapSample): void {
    this.maps.set(sample.name, sample);
  }

  get size(): number {
    return this.maps.size;
  }

  /** One JSON sample per line, cut to what a ConfigMap holds (whole maps only). */
  toNdjson(): string {
    let out = '';
    for (const sample of this.maps.values()) {
      const line = `${JSON.stringify(sample)}\n`;
      if (Buffer.byteLength(out) + Buffer.byteLength(line) > finalDumpMaxBytes) break;
      out += line;
    }
    return out;
  }
}

/** Reads a final dump back from the trace's ConfigMap; undefined when none was saved. */
export function readFinalDump(configMap: V1ConfigMap | undefined): MapSample[] | undefined {
  const text = configMap?.data?.[finalDumpKey];
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map(readOneShotLine)
    .flatMap((line) => (line.kind === 'sample' ? [line.sample] : []));
}

/** Saves the final dump into the Job's ConfigMap (a merge patch: the program, owned by the apply, stays). */
export async function saveFinalDump(client: KubeClient, configMap: string, maps: LatestMaps): Promise<void> {
  const namespace = client.namespace;
  await client.call({ verb: 'patch', resource: 'configmaps', name: configMap, namespace }, () =>
    client.objects.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: configMap, namespace },
        data: { [finalDumpKey]: maps.toNdjson() },
      },
      undefined,
      undefined,
      'ktrace',
      undefined,
      PatchStrategy.MergePatch,
    ),
  );
}
