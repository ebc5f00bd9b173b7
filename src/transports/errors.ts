/**
 * Classifying low-level failures (sockets, TLS, Docker API) into TransportError kinds, shared by the SSH
 * and Docker transports so both answer "can retrying help?" the same way.
 */

/** Socket-level codes that mean "the other end is not answering right now": worth a retry. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** TLS codes meaning the server's certificate is not the one we trust (its identity, like an SSH host key). */
const SERVER_IDENTITY_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isUnreachableError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

export function isServerIdentityError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && SERVER_IDENTITY_CODES.has(code);
}

/** The server rejected our client certificate (a TLS alert about our certificate). */
export function isClientCertificateRejected(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return /^ERR_SSL_(?:TLSV1|TLSV13|SSLV3)_ALERT_(?:BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED)$/.test(
    code,
  );
}
