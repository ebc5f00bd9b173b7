/**
 * Postfix SASL password tables (smtp_sasl_password_maps; DMS's postfix-sasl-password.cf): one
 * "<key> <user>:<password>" per line, comments and blank lines kept as they are. Pure; the text holds
 * secrets, so nothing here puts a password into a message or a result other than the rewritten text.
 */

export interface SaslCredentialCheck {
  /** Keys (next hops, @domains, senders) whose entry names the user. */
  keys: string[];
  /** Of those, the keys whose password differs from the expected one. */
  differing: string[];
}

const ENTRY = /^(\s*)(\S+)(\s+)([^:\s]+):(.*)$/;

/** Which entries of the table name `user`, and which of them carry another password than `password`. */
export function checkSaslCredentials(text: string, user: string, password: string): SaslCredentialCheck {
  const keys: string[] = [];
  const differing: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = ENTRY.exec(line);
    if (!m || m[4] !== user) continue;
    keys.push(m[2]!);
    if (m[5] !== password) differing.push(m[2]!);
  }
  return { keys, differing };
}

/** The table with every entry for `user` given `password`; everything else unchanged. */
export function withSaslPassword(text: string, user: string, password: string): string {
  if (/[\n\r]/.test(password)) throw new RangeError('a SASL password cannot hold a line break');
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(#|$)/.test(line)) return line;
      const m = ENTRY.exec(line);
      return m && m[4] === user ? `${m[1]}${m[2]}${m[3]}${user}:${password}` : line;
    })
    .join('\n');
}
