// The resource ktrace reports, one for /metrics (target_info) and OTLP pushes alike: service.name=ktrace, the ktrace
// version, an instance id per exporter, the host, then OTEL_RESOURCE_ATTRIBUTES, then what the host passes.
import { randomUUID } from 'node:crypto';
import { ktraceVersion } from '@ktrace/parser';
import { detectResources, envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/**
 * `service.instance.id` is a random UUID, as the OTel SDKs make it: each exporter pushes as its own instance
 * (two traces in one process do not merge in a collector). OTEL_RESOURCE_ATTRIBUTES or `attributes` may set it
 * (the agent does: `<namespace>.<pod>.agent`).
 */
export function ktraceResource(attributes: Record<string, string> = {}): Resource {
  const detected = detectResources({ detectors: [envDetector, hostDetector] });
  return resourceFromAttributes({
    [ATTR_SERVICE_NAME]: 'ktrace',
    [ATTR_SERVICE_VERSION]: ktraceVersion,
    [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
  })
    .merge(detected)
    .merge(resourceFromAttributes(attributes));
}
