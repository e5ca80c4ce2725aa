import { describe, expect, test } from 'vitest';
import { decodeTraceConfigMap, parseTraceDocument, traceConfigMap } from './trace-document.js';

const program = 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }';
const document = {
  apiVersion: 'ktrace.dev/v1alpha1',
  kind: 'Trace',
  metadata: { name: 'opens' },
  spec: { program, interval: '2s', nodeSelector: { matchLabels: { 'kubernetes.io/os': 'linux' } } },
};

describe('Trace documents', () => {
  test('a document round-trips through its ConfigMap, labelled for ktrace', () => {
    const trace = parseTraceDocument(document);
    expect(trace.spec.intervalMillis).toBe(2000);
    const configMap = traceConfigMap(trace, 'ktrace');
    expect(configMap.metadata?.name).toBe('trace-opens');
    expect(configMap.metadata?.labels).toMatchObject({
      'ktrace.dev/trace': 'opens',
      'app.kubernetes.io/managed-by': 'ktrace',
      'app.kubernetes.io/component': 'trace',
    });
    const decoded = decodeTraceConfigMap(configMap);
    expect(decoded.ok && decoded.trace.digest).toBe(trace.digest);
    expect(decoded.ok && decoded.trace.nodeSelector).toEqual({ matchLabels: { 'kubernetes.io/os': 'linux' } });
  });

  test('the digest changes with the spec, not with key order', () => {
    const a = parseTraceDocument(document);
    const reordered = parseTraceDocument({ ...document, spec: { nodeSelector: document.spec.nodeSelector, interval: '2s', program } });
    const changed = parseTraceDocument({ ...document, spec: { ...document.spec, interval: '3s' } });
    expect(reordered.digest).toBe(a.digest);
    expect(changed.digest).not.toBe(a.digest);
  });

  test.each([
    [{ ...document, apiVersion: 'v1' }, 'apiVersion: expected ktrace.dev/v1alpha1, got "v1"'],
    [{ ...document, metadata: { name: 'Opens!' } }, 'metadata.name: "Opens!" is not a trace name'],
    [{ ...document, spec: { ...document.spec, interval: 'often' } }, 'trace opens: invalid trace spec:\n  spec.interval: expected a duration'],
    [{ ...document, spec: { ...document.spec, programFile: 'x.bt' } }, 'trace opens: spec.programFile: not allowed here'],
    [{ ...document, spec: { ...document.spec, metrics: { listen: '0.0.0.0:1' } } }, 'spec.metrics.listen: not allowed here: the agent serves one /metrics'],
    [{ ...document, spec: { ...document.spec, podSelector: { matchLabels: { app: 'a b' } } } }, 'trace opens: spec.podSelector.matchLabels: "a b" is not a label value'],
  ])('rejects a bad document with the field named (%#)', (input, message) => {
    expect(() => parseTraceDocument(input)).toThrow(message);
  });

  test('a ConfigMap that holds no valid document decodes to its error, never throws', () => {
    const good = traceConfigMap(parseTraceDocument(document), 'ktrace');
    const broken = { ...good, data: { 'trace.yaml': 'apiVersion: [' } };
    const decoded = decodeTraceConfigMap(broken);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error.message).toMatch(/^trace opens: trace.yaml is not valid YAML/);
    const empty = decodeTraceConfigMap({ ...good, data: {} });
    expect(!empty.ok && empty.error.message).toBe('trace opens: ConfigMap trace-opens has no trace.yaml key');
  });
});
