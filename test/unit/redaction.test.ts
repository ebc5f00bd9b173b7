/**
 * Secrets are hidden in any text before it becomes evidence, a summary, a log line or an error: inline
 * Postfix password tables, credentials in URLs, the secrets the worker resolved (a webhook URL and its
 * token path), and a webhook channel's failure message.
 */
import { describe, expect, it } from 'vitest';
import { boundActivities } from '../../src/activities/bounds.js';
import { outcome } from '../../src/activities/outcome.js';
import { rememberSecret } from '../../src/activities/redaction.js';
import { deliver } from '../../src/notify/channels.js';
import { redactDeep, redactInlineTables, redactText, secretPieces } from '../../src/parsers/index.js';

const PASSWORD = 'Pl4nted-Static-Secret';
const TOKEN = 'T0KEN9f8e7d6c5b4a3210zz';
const WEBHOOK = `https://hooks.example.test/services/${TOKEN}?key=${TOKEN}`;

describe('redaction', () => {
  it('hides inline password tables anywhere in postconf output, nested braces included', () => {
    const postconf = [
      `smtp_sasl_password_maps = static:relayuser:${PASSWORD}`,
      `lmtp_sasl_password_maps = inline:{ {[relay]:587 = relayuser:${PASSWORD}}, other=x }`,
      `  -o smtp_sasl_password_maps=static:{relayuser:${PASSWORD}}`,
      'smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd',
    ].join('\n');
    const redacted = redactText(postconf);
    expect(redacted).not.toContain(PASSWORD);
    expect(redacted).toContain('texthash:/etc/postfix/sasl_passwd');
    expect(redactInlineTables(`inline:{ {a = u:${PASSWORD}} } rest`)).toBe('inline:{<redacted>} rest');
  });

  it('hides credentials in URLs and every piece of a known webhook URL', () => {
    expect(redactText(`fetching https://user:${PASSWORD}@relay.example.test/x failed`)).toBe(
      'fetching https://<redacted>@relay.example.test/x failed',
    );
    const pieces = secretPieces(WEBHOOK);
    for (const text of [WEBHOOK, `path /services/${TOKEN} refused`, `token ${TOKEN}`])
      expect(redactText(text, pieces)).not.toContain(TOKEN);
    const when = new Date('2026-12-01T00:00:00Z');
    expect(redactDeep({ at: when, list: [`x ${TOKEN}`] }, pieces)).toEqual({
      at: when,
      list: ['x <redacted>'],
    });
  });

  it('activity outcomes, results and errors lose the secrets the worker resolved', async () => {
    rememberSecret(WEBHOOK);
    const made = outcome(false, `posting to ${WEBHOOK} failed`, {
      url: WEBHOOK,
      maps: `static:u:${PASSWORD}`,
    });
    expect(JSON.stringify(made)).not.toMatch(new RegExp(`${TOKEN}|${PASSWORD}`));
    const { leaky, failing } = boundActivities({
      leaky: async () => ({ hook: WEBHOOK }),
      failing: async (): Promise<never> => {
        throw new Error(`could not reach ${WEBHOOK}`);
      },
    });
    expect(JSON.stringify(await leaky())).not.toContain(TOKEN);
    const error = await failing().catch((err: unknown) => err as Error);
    expect(error.message).not.toContain(TOKEN);
    expect(error.stack ?? '').not.toContain(TOKEN);
  });

  it('a failing webhook channel reports neither its credentials nor its token', async () => {
    const url = `https://hookuser:${PASSWORD}@127.0.0.1:9/services/${TOKEN}`;
    const result = await deliver(
      { kind: 'webhook', url },
      { subject: 's', text: 't', commands: [] },
      { attempts: 1, timeoutMs: 2000 },
    );
    expect(result.ok).toBe(false);
    expect(result.error).toBeDefined();
    expect(result.error).not.toContain(PASSWORD);
    expect(result.error).not.toContain(TOKEN);
  });
});
