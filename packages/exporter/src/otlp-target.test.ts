// Which protocol and URL OTLP pushes use, from the options and the standard OTEL_EXPORTER_OTLP_* variables.
import { describe, expect, it } from 'vitest';
import { otlpProtocol, otlpTarget, otlpWanted } from './otlp-target.js';

describe('OTLP protocol and URL', () => {
  it('http/protobuf by default; _METRICS_PROTOCOL over _PROTOCOL; the option over both', () => {
    expect(otlpProtocol(undefined, {})).toBe('http/protobuf');
    expect(otlpProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('grpc');
    expect(
      otlpProtocol(undefined, {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      }),
    ).toBe('http/json');
    expect(otlpProtocol('grpc', { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' })).toBe('grpc');
    expect(otlpProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: ' ' })).toBe('http/protobuf');
  });

  it('refuses an unknown protocol naming where it came from and the valid ones', () => {
    expect(() => otlpProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http' })).toThrow(
      'OTEL_EXPORTER_OTLP_PROTOCOL "http" is not an OTLP protocol; use http/protobuf (the default), http/json or grpc',
    );
    expect(() => otlpProtocol('protobuf', {})).toThrow('otlpProtocol "protobuf" is not an OTLP protocol');
  });

  it('over HTTP a base URL gets /v1/metrics; over gRPC the URL is scheme, host and port, and a path is refused', () => {
    expect(otlpTarget({ endpoint: 'http://127.0.0.1:4318' }, {}).url).toBe('http://127.0.0.1:4318/v1/metrics');
    expect(otlpTarget({ endpoint: 'http://c:4318/custom', protocol: 'http/json' }, {}).url).toBe(
      'http://c:4318/custom',
    );
    expect(otlpTarget({ endpoint: 'http://127.0.0.1:4317/', protocol: 'grpc' }, {}).url).toBe('http://127.0.0.1:4317');
    expect(() => otlpTarget({ endpoint: 'http://127.0.0.1:4317/v1/metrics', protocol: 'grpc' }, {})).toThrow(
      '--otlp-endpoint "http://127.0.0.1:4317/v1/metrics" has a path, which OTLP over gRPC does not use; use e.g. http://127.0.0.1:4317',
    );
    expect(() => otlpTarget({ endpoint: 'localhost:4317', protocol: 'grpc' }, {})).toThrow(
      'is not an http(s) URL; use e.g. http://127.0.0.1:4317',
    );
  });

  it('without an endpoint, the URL the exporter reads from the environment', () => {
    expect(otlpWanted(undefined, {})).toBe(false);
    expect(otlpWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(otlpTarget({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).url).toBe('http://c:4318/v1/metrics');
    expect(
      otlpTarget({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).url,
    ).toBe('http://c:4317');
    expect(
      otlpTarget(
        {},
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m/x' },
      ).url,
    ).toBe('http://m/x');
  });
});
