/**
 * Every secret the test suites and the lab use, so that tests can prove none of them leaks into workflow
 * histories, logs or error messages. The lab keeps its generated secrets under .lab/secrets/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAB_SECRETS_DIR = resolve(fileURLToPath(new URL('../../.lab/secrets', import.meta.url)));

/** Secrets the tests themselves invent (receiver tokens and the like). */
export const TEST_SECRETS: Record<string, string> = {
  receiverToken: 'mrb-test-receiver-token-5f1c9a',
  approverToken: 'mrb-test-approver-token-3b8e27',
  /** Planted in the lab mail server's main.cf as a `static:` password table (secrets.test.ts). */
  plantedSaslPassword: 'Pl4nted-St4tic-Passw0rd-e19a',
  /** The token path of the notification webhook URL (secrets.test.ts). */
  webhookToken: 'T0KEN-hooks-8c2f1d9e7b6a',
  /** The password of a webhook URL with credentials, which fetch refuses (secrets.test.ts). */
  webhookPassword: 'hook-Passw0rd-5e4d3c',
};

export interface KnownSecret {
  name: string;
  value: string;
}

/** Long enough pieces of each secret: whole passwords, and every base64 line of key files. */
export function knownSecrets(dir = LAB_SECRETS_DIR): KnownSecret[] {
  const found: KnownSecret[] = Object.entries(TEST_SECRETS).map(([name, value]) => ({ name, value }));
  if (!existsSync(dir)) return found;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isFile() || name.endsWith('.pub')) continue;
    const text = readFileSync(path, 'utf8').trim();
    if (text.includes('PRIVATE KEY')) {
      text
        .split('\n')
        .filter((line) => line.length >= 40 && !line.startsWith('-----'))
        .forEach((line, i) => found.push({ name: `${name} (line ${i + 1})`, value: line }));
    } else if (text.length >= 8) {
      found.push({ name, value: text });
    }
  }
  return found;
}

/**
 * The text of a saved history with every payload decoded: payload data is base64 in history JSON, and a
 * secret inside a longer string does not show up as a standalone base64 run, so search the decoded text.
 */
export function searchableHistory(text: string): string {
  const decoded: string[] = [text];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'data' && typeof v === 'string') decoded.push(Buffer.from(v, 'base64').toString('utf8'));
        else walk(v);
      }
    }
  };
  walk(JSON.parse(text));
  return decoded.join('\n');
}
