// Where and how OTLP pushes go: the protocol (otlpProtocol, else OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else
// OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf as most collectors and SDKs), the URL, and the OpenTelemetry JS
// exporter of that protocol. The exporters read the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, TLS).
import { KtraceError } from '@ktrace/parser';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

type Env = Record<string, string | undefined>;

function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Whether OTLP pushes are configured: an endpoint given, or one of the standard endpoint variables set. */
export function otlpWanted(endpoint: string | undefined, env: Env = process.env): boolean {
  return (
    endpoint !== undefined ||
    given(env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']) !== undefined ||
    given(env['OTEL_EXPORTER_OTLP_ENDPOINT']) !== undefined
  );
}

/** The protocol to push with; a KtraceError naming the setting and the valid values for anything else. */
export function otlpProtocol(option: string | undefined, env: Env = process.env): OtlpProtocol {
  const sources: Array<[string, string | undefined]> = [
    ['otlpProtocol', option],
    ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', given(env['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'])],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', given(env['OTEL_EXPORTER_OTLP_PROTOCOL'])],
  ];
  const [setting, value] = sources.find(([, v]) => v !== undefined) ?? ['', 'http/protobuf'];
  if ((OTLP_PROTOCOLS as readonly string[]).includes(value ?? '')) return value as OtlpProtocol;
  throw new KtraceError({
    code: 'KTRACE_BAD_OPTION',
    message: `${setting} ${JSON.stringify(value)} is not an OTLP protocol; use http/protobuf (the default), http/json or grpc`,
  });
}

/**
 * `--otlp-endpoint` as the exporter takes it. Over HTTP a base URL (no path) gets OTLP's metrics path and a URL
 * with a path is used as given; gRPC takes scheme, host and port (http:// is plaintext, https:// TLS).
 */
function endpointUrl(endpoint: string, protocol: OtlpProtocol): string {
  const example = protocol === 'grpc' ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--otlp-endpoint ${JSON.stringify(endpoint)} is not a URL; use e.g. ${example}`,
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // `localhost:4318` parses as a URL of scheme `localhost:`: OTLP would then fail on every push, silently.
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--otlp-endpoint ${JSON.stringify(endpoint)} is not an http(s) URL; use e.g. ${example}`,
    });
  }
  const bare = url.pathname === '' || url.pathname === '/';
  if (protocol === 'grpc') {
    if (!bare) {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: `--otlp-endpoint ${JSON.stringify(endpoint)} has a path, which OTLP over gRPC does not use; use e.g. ${example}`,
      });
    }
    return `${url.protocol}//${url.host}`;
  }
  if (bare) url.pathname = '/v1/metrics';
  return url.toString();
}

/** The URL pushes go to when no endpoint is given: what the OTel exporter reads from the environment. */
function envUrl(protocol: OtlpProtocol, env: Env): string {
  const metrics = given(env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']);
  const base = given(env['OTEL_EXPORTER_OTLP_ENDPOINT']) ?? '';
  if (metrics !== undefined) return metrics;
  return protocol === 'grpc' ? base : `${base.replace(/\/$/, '')}/v1/metrics`;
}

export interface OtlpTarget {
  protocol: OtlpProtocol;
  /** Where pushes go, for messages. */
  url: string;
  exporter: GrpcMetricExporter | JsonMetricExporter | ProtobufMetricExporter;
}

/** The OTel exporter for `protocol` at `endpoint` (else the OTEL_EXPORTER_OTLP_* endpoint). */
export function otlpTarget(options: { endpoint?: string; protocol?: string }, env: Env = process.env): OtlpTarget {
  const protocol = otlpProtocol(options.protocol, env);
  const url = options.endpoint === undefined ? undefined : endpointUrl(options.endpoint, protocol);
  const config = url === undefined ? {} : { url };
  const exporter =
    protocol === 'grpc'
      ? new GrpcMetricExporter(config)
      : protocol === 'http/json'
        ? new JsonMetricExporter(config)
        : new ProtobufMetricExporter(config);
  return { protocol, url: url ?? envUrl(protocol, env), exporter };
}
