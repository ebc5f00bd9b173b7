/**
 * The worker's Temporal metrics (task slots, poll and schedule-to-start latencies, workflow and activity
 * completions, ...) on a Prometheus endpoint served by the Temporal Core runtime itself: GET /metrics.
 */
import type { Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';

export interface WorkerMetricsOptions {
  /** Tags added to every metric, e.g. { worker: 'mx-ops-1' }. */
  globalTags?: Record<string, string>;
  /** The runtime's logger (the SDK's default logger otherwise). */
  logger?: Logger;
}

export interface WorkerMetrics {
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics. */
  url: string;
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]/]+):(\d{1,5})$/;

/**
 * Installs the process-wide Temporal runtime with a Prometheus exporter bound to `bindAddress`
 * ("host:port", e.g. "127.0.0.1:9464"; "[::1]:9464" for IPv6). Call it once, before any NativeConnection
 * or Worker is created (Runtime.install throws otherwise). Port 0 is refused: the runtime does not say
 * which port it got.
 */
export function installWorkerMetrics(bindAddress: string, options: WorkerMetricsOptions = {}): WorkerMetrics {
  const port = HOST_PORT.exec(bindAddress)?.[1];
  if (port === undefined || Number(port) < 1 || Number(port) > 65_535) {
    throw new Error(
      `worker metrics address must be host:port with a port from 1 to 65535, got "${bindAddress}"`,
    );
  }
  Runtime.install({
    ...(options.logger ? { logger: options.logger } : {}),
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress },
        ...(options.globalTags ? { globalTags: options.globalTags } : {}),
      },
    },
  });
  return { url: `http://${bindAddress}/metrics` };
}
