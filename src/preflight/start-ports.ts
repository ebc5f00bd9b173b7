/** The ports `npm start` listens on, each with what needs it and how to choose another. Pure. */
import type { PortWant } from './problems.js';

export interface StartListeners {
  /** The local Temporal dev server, when one is started: its gRPC address (host:port) and Web UI port. */
  temporal?: { address: string; uiPort: number };
  /** The worker's metrics endpoint (host:port), unless 'off'. */
  metricsAddress?: string;
  /** The Alertmanager receiver, when the config has one: where it listens and which config says so. */
  receiver?: { host: string; port: number; config: string; lab: boolean };
  /** The lab's Prometheus and Alertmanager (loopback), when `npm start` runs them. */
  monitoring?: { prometheusPort: number; alertmanagerPort: number };
}

const hostPort = (address: string, fallbackPort: number): { host: string; port: number } => {
  const m = /^(.*):(\d{1,5})$/.exec(address);
  return m
    ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }
    : { host: address, port: fallbackPort };
};

export function startPortWants(l: StartListeners): PortWant[] {
  const wants: PortWant[] = [];
  if (l.temporal) {
    const grpc = hostPort(l.temporal.address, 7233);
    wants.push(
      {
        ...grpc,
        wantedBy: 'the local Temporal dev server (gRPC)',
        override:
          `set MRB_LOCAL_TEMPORAL_ADDRESS=${grpc.host}:<port>; or, if a Temporal server already listens there, ` +
          `use it: TEMPORAL_ADDRESS=${grpc.host}:${grpc.port} (then no local server is started)`,
      },
      {
        host: grpc.host,
        port: l.temporal.uiPort,
        wantedBy: "the local Temporal dev server's Web UI",
        override: 'set MRB_UI_PORT=<port>',
      },
    );
  }
  if (l.metricsAddress && l.metricsAddress !== 'off') {
    wants.push({
      ...hostPort(l.metricsAddress, 9464),
      wantedBy: "the worker's metrics endpoint",
      override: 'set MRB_METRICS_ADDRESS=127.0.0.1:<port> (or MRB_METRICS_ADDRESS=off for none)',
    });
  }
  if (l.receiver) {
    wants.push({
      host: l.receiver.host,
      port: l.receiver.port,
      wantedBy: 'the Alertmanager receiver',
      override: l.receiver.lab
        ? `run with your own config (MRB_CONFIG=<file>) whose alerts.listen.port is another (the lab's ${l.receiver.config} is generated)`
        : `set alerts.listen.port in ${l.receiver.config}`,
    });
  }
  if (l.monitoring) {
    wants.push(
      {
        host: '127.0.0.1',
        port: l.monitoring.prometheusPort,
        wantedBy: "the lab's Prometheus",
        override: 'set MRB_PROMETHEUS_PORT=<port> (or MRB_LAB_MONITORING=off for no monitoring)',
      },
      {
        host: '127.0.0.1',
        port: l.monitoring.alertmanagerPort,
        wantedBy: "the lab's Alertmanager",
        override: 'set MRB_ALERTMANAGER_PORT=<port> (or MRB_LAB_MONITORING=off for no monitoring)',
      },
    );
  }
  return wants;
}
