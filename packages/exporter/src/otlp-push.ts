// OTLP/HTTP pushes watched: a failed export is counted and warned once with the URL and the error (and once more
// when pushes recover), and the final flush is bounded so an unreachable collector cannot stall a stop.
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** How the last push before shutdown went: whether the final dump reached the collector. */
export interface OtlpFinalPush {
  url: string;
  delivered: boolean;
  /** Why not, when not delivered: the collector's error, or that the flush took longer than its bound. */
  error?: string;
}

export interface WatchedPushOptions {
  url: string;
  warn: (message: string) => void;
  /** Called for each failed export (the self-metric counter). */
  onFailure: () => void;
}

type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = (error as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
    return `${error.message}${typeof code === 'string' && !error.message.includes(code) ? ` (${code})` : ''}`;
  }
  return String(error);
}

/** Wraps the OTLP exporter: same pushes, with their outcome counted and logged. */
export class WatchedPushExporter implements PushMetricExporter {
  /** Completed pushes, and the outcome of the latest one. */
  completed = 0;
  lastError: string | undefined;
  readonly url: string;
  private failing = false;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly options: WatchedPushOptions,
  ) {
    this.url = options.url;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.inner.export(metrics, (result) => {
      this.completed++;
      // ExportResultCode.SUCCESS is 0; @opentelemetry/core, which declares the enum, is not a dependency here.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
      if (result.code === 0) {
        this.lastError = undefined;
        if (this.failing) this.options.warn(`OTLP export to ${this.options.url} works again`);
        this.failing = false;
      } else {
        this.lastError = errorText(result.error ?? 'export failed');
        this.options.onFailure();
        if (!this.failing) {
          this.options.warn(
            `OTLP export to ${this.options.url} failed: ${this.lastError}; failed pushes are counted in ktrace_otlp_export_failures_total, and this is said again only when pushes work again`,
          );
        }
        this.failing = true;
      }
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(
    ...args: Parameters<NonNullable<PushMetricExporter['selectAggregationTemporality']>>
  ): ReturnType<NonNullable<PushMetricExporter['selectAggregationTemporality']>> {
    return this.inner.selectAggregationTemporality!(...args);
  }
}

/** `work`, or `undefined` once `millis` have passed without it settling. */
export async function within<T>(work: Promise<T>, millis: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), millis);
  });
  try {
    return await Promise.race([work.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
