/**
 * The receiver's own TLS (`alerts.listen.tls`): from a config whose certificate and key are secret files
 * (a self-signed certificate made here with openssl), the receiver serves HTTPS only. A client that trusts
 * the certificate posts an alert with the bearer token and starts a run; a client that does not trust it is
 * refused by its own verification; plain HTTP to the port gets no answer at all.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiverOptionsFromConfig } from '../../src/alerts/from-config.js';
import { startReceiver, type Receiver } from '../../src/alerts/receiver.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort } from '../helpers/ports.js';
import { webhookBody } from '../helpers/receiver.js';

const run = promisify(execFile);
const TOKEN = 'receiver-tls-test-token';
let dir: string;
let receiver: Receiver;
let ca: string;
const fired: string[] = [];

const body = webhookBody([
  {
    status: 'firing',
    labels: { alertname: 'SmtpRelayDown', target: 'mx1', automation: 'mail-runbooks' },
    annotations: {},
    startsAt: '2026-11-22T00:00:00Z',
    fingerprint: 'f00d',
  },
]);

function post(
  send: typeof httpsRequest | typeof httpRequest,
  url: string,
  options: RequestOptions,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        timeout: 10_000,
        ...options,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mrb-receiver-tls-'));
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=mail-runbooks receiver test',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'receiver.key'),
    '-out',
    join(dir, 'receiver.crt'),
  ]);
  ca = await readFile(join(dir, 'receiver.crt'), 'utf8');
  await writeFile(join(dir, 'alert-token'), `${TOKEN}\n`, { mode: 0o600 });
  // The production example with the receiver's TLS added: the config path the worker would take.
  const example = await readFile('docs/config.production.example.yaml', 'utf8');
  const port = await freePort();
  const config = example
    .replace(
      'listen: { host: 127.0.0.1, port: 9095 }',
      `listen: { host: 127.0.0.1, port: ${port}, tls: { cert: { file: receiver.crt }, key: { file: receiver.key } } }`,
    )
    .replace('{ file: /etc/mail-runbooks/secrets/alert-token }', '{ file: alert-token }')
    // No approval page here (its tokens and key are other files): only the alert endpoint.
    .split('\n')
    .filter((line) => !/tokens\/|receiverKey/.test(line))
    .join('\n');
  expect(config).toContain('tls: { cert: { file: receiver.crt }');
  await writeFile(join(dir, 'config.yaml'), config);
  const options = await receiverOptionsFromConfig(await loadConfig(join(dir, 'config.yaml')), dir);
  if (!options) throw new Error('no alerts section');
  receiver = await startReceiver({
    ...options,
    dispatcher: {
      fire: (runbook, target) => {
        fired.push(`${runbook} ${target}`);
        return Promise.resolve({ workflowId: `mrb.${runbook}.${target}`, outcome: 'started' });
      },
      resolve: (runbook, target) =>
        Promise.resolve({ workflowId: `mrb.${runbook}.${target}`, outcome: 'no-run' }),
    },
    log: () => undefined,
  });
});

afterAll(async () => {
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the receiver with its own TLS (alerts.listen.tls)', () => {
  it('serves HTTPS: a client trusting the certificate posts an alert and starts its run', async () => {
    expect(receiver.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await post(httpsRequest, `${receiver.url}/alerts`, { ca });
    expect(r.status, r.text).toBe(200);
    expect(fired).toEqual(['relayUnresponsive mx1']);
  });

  it('still asks for the token over TLS', async () => {
    const r = await post(httpsRequest, `${receiver.url}/alerts`, {
      ca,
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
    });
    expect(r.status).toBe(401);
  });

  it('a client that does not trust the certificate refuses it', async () => {
    await expect(post(httpsRequest, `${receiver.url}/alerts`, {})).rejects.toThrow(
      /self[- ]signed certificate/,
    );
  });

  it('plain HTTP gets no answer: nothing crosses in clear', async () => {
    const plain = receiver.url.replace(/^https:/, 'http:');
    await expect(post(httpRequest, `${plain}/alerts`, {})).rejects.toThrow();
    expect(fired).toEqual(['relayUnresponsive mx1']);
  });
});
