// OTLP receivers on 127.0.0.1 that decode what they get, as a collector would: HTTP (application/x-protobuf decoded
// with the official opentelemetry-proto files in otlp-proto/, or application/json) and gRPC MetricsService/Export.
// Each request becomes one ReceivedExport: the resource, and every metric with its scope and points.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';

const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'otlp-proto');
const SERVICE = 'opentelemetry.proto.collector.metrics.v1.MetricsService';

export const packageDefinition = loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto', {
  includeDirs: [PROTO_DIR],
  longs: String,
  enums: Number,
  defaults: false,
});
const exportMethod = (packageDefinition[SERVICE] as Record<string, MethodDefinition<unknown, unknown>>)['Export']!;

/** An ExportMetricsServiceRequest decoded from protobuf with opentelemetry-proto's own schema. */
export function decodeExportRequest(body: Buffer): unknown {
  return exportMethod.requestDeserialize(body);
}

export type AttributeValue = string | number | boolean;

export interface ReceivedPoint {
  attributes: Record<string, AttributeValue>;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Sums and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  explicitBounds?: number[];
  bucketCounts?: number[];
}

export interface ReceivedMetric {
  scope: { name: string; version: string };
  name: string;
  unit: string;
  type: 'sum' | 'gauge' | 'histogram';
  /** 1 delta, 2 cumulative (sums and histograms). */
  temporality?: number;
  points: ReceivedPoint[];
}

export interface ReceivedExport {
  /** How it came: the HTTP content type, or 'grpc'. */
  encoding: 'protobuf' | 'json' | 'grpc';
  path: string;
  resource: Record<string, AttributeValue>;
  metrics: ReceivedMetric[];
}

/* The decoded request, protobuf (proto-loader objects) and OTLP/JSON alike: the JSON mapping has the same names. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface Point {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  explicitBounds?: number[];
  bucketCounts?: Array<string | number>;
}
interface Metric {
  name: string;
  unit?: string;
  sum?: { dataPoints?: Point[]; aggregationTemporality?: number };
  gauge?: { dataPoints?: Point[] };
  histogram?: { dataPoints?: Point[]; aggregationTemporality?: number };
}
interface Request {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{ scope?: { name?: string; version?: string }; metrics?: Metric[] }>;
  }>;
}

function attributes(list: KeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    if (value?.stringValue !== undefined) out[key] = value.stringValue;
    else if (value?.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value?.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value?.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

function point(p: Point): ReceivedPoint {
  const out: ReceivedPoint = {
    attributes: attributes(p.attributes),
    startTimeUnixNano: BigInt(p.startTimeUnixNano ?? 0),
    timeUnixNano: BigInt(p.timeUnixNano ?? 0),
  };
  if (p.asInt !== undefined) out.value = Number(p.asInt);
  else if (p.asDouble !== undefined) out.value = p.asDouble;
  if (p.bucketCounts !== undefined || p.explicitBounds !== undefined) {
    out.count = Number(p.count ?? 0);
    out.explicitBounds = p.explicitBounds ?? [];
    out.bucketCounts = (p.bucketCounts ?? []).map(Number);
  }
  return out;
}

/** One decoded request, flattened to what a user of a collector sees. */
export function receivedExport(request: unknown, encoding: ReceivedExport['encoding'], path: string): ReceivedExport {
  const { resourceMetrics = [] } = request as Request;
  const resource: Record<string, AttributeValue> = {};
  const metrics: ReceivedMetric[] = [];
  for (const rm of resourceMetrics) {
    Object.assign(resource, attributes(rm.resource?.attributes));
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '' };
      for (const m of sm.metrics ?? []) {
        const [type, data] = m.sum
          ? (['sum', m.sum] as const)
          : m.histogram
            ? (['histogram', m.histogram] as const)
            : (['gauge', m.gauge ?? {}] as const);
        metrics.push({
          scope,
          name: m.name,
          unit: m.unit ?? '',
          type,
          ...('aggregationTemporality' in data ? { temporality: data.aggregationTemporality } : {}),
          points: (data.dataPoints ?? []).map(point),
        });
      }
    }
  }
  return { encoding, path, resource, metrics };
}

export interface OtlpReceiver {
  /** Where to point --otlp-endpoint (a base URL: http://127.0.0.1:PORT). */
  endpoint: string;
  port: number;
  exports(): ReceivedExport[];
  /** Requests that could not be decoded, with why. */
  rejected(): string[];
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver: protobuf and JSON bodies decoded by their content type; anything else is refused. */
export async function startOtlpHttpReceiver(port = 0): Promise<OtlpReceiver> {
  const received: ReceivedExport[] = [];
  const rejected: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = request.headers['content-type'] ?? '';
      try {
        if (type.startsWith('application/x-protobuf')) {
          received.push(receivedExport(decodeExportRequest(body), 'protobuf', request.url ?? ''));
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else if (type.startsWith('application/json')) {
          received.push(receivedExport(JSON.parse(body.toString('utf8')), 'json', request.url ?? ''));
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          throw new Error(`unsupported content type ${JSON.stringify(type)}`);
        }
      } catch (error) {
        rejected.push(String(error));
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('OTLP receiver did not bind');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    exports: () => received,
    rejected: () => rejected,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The metrics named `name` over every export received, oldest first. */
export function metricsNamed(exports: ReceivedExport[], name: string): ReceivedMetric[] {
  return exports.flatMap((e) => e.metrics.filter((m) => m.name === name));
}

/** The latest value received for a sum or gauge `name` at the point whose attribute `key` is `value`. */
export function latestValue(exports: ReceivedExport[], name: string, key: string, value: string): number | undefined {
  let latest: number | undefined;
  for (const m of metricsNamed(exports, name)) {
    for (const p of m.points) if (p.attributes[key] === value && p.value !== undefined) latest = p.value;
  }
  return latest;
}

/** An OTLP/gRPC receiver: MetricsService/Export, each request decoded by grpc-js with opentelemetry-proto's schema. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const grpc = await import('@grpc/grpc-js');
  const received: ReceivedExport[] = [];
  const server = new grpc.Server();
  const service = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    opentelemetry: { proto: { collector: { metrics: { v1: { MetricsService: { service: never } } } } } };
  };
  server.addService(service.opentelemetry.proto.collector.metrics.v1.MetricsService.service, {
    Export: (call: { request: unknown }, callback: (error: null, response: object) => void) => {
      received.push(
        receivedExport(call.request, 'grpc', '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'),
      );
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    exports: () => received,
    rejected: () => [],
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
