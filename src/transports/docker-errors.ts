/**
 * Docker engine API failures as TransportErrors: HTTP status codes from the engine, socket and TLS errors
 * on the way to it, and our own errors from the SSH tunnel (passed through unchanged).
 */
import {
  errorCode,
  errorMessage,
  isClientCertificateRejected,
  isServerIdentityError,
  isUnreachableError,
} from './errors.js';
import { TransportError } from './types.js';

export function classifyDockerError(error: unknown, container: string, engine: string): TransportError {
  if (error instanceof TransportError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  const reason = errorMessage(error);
  const options = { cause: error };
  if (status === 404)
    return new TransportError('not-found', `container '${container}' not found on ${engine}`, options);
  if (status === 409) {
    // Stopped, paused or restarting: it may well come back, so let the caller retry.
    return new TransportError('unreachable', `container '${container}' on ${engine} is not running`, options);
  }
  if (status === 401 || status === 403) {
    return new TransportError('auth', `${engine} refused the request (HTTP ${status})`, options);
  }
  if (isServerIdentityError(error)) {
    return new TransportError(
      'host-key',
      `${engine}: its TLS certificate is not trusted by the configured CA (${errorCode(error)})`,
      options,
    );
  }
  if (isClientCertificateRejected(error)) {
    return new TransportError(
      'auth',
      `${engine} rejected our client certificate (${errorCode(error)})`,
      options,
    );
  }
  if (errorCode(error) === 'EACCES') {
    return new TransportError('auth', `no permission to use ${engine}`, options);
  }
  if (errorCode(error) === 'ENOENT' || isUnreachableError(error)) {
    return new TransportError('unreachable', `${engine} is not answering (${reason})`, options);
  }
  if (typeof status === 'number' && status < 500) {
    return new TransportError(
      'config',
      `${engine} rejected the request for '${container}' (HTTP ${status}: ${reason})`,
      options,
    );
  }
  // 5xx, aborted requests (our connection timeout) and anything unforeseen: the engine may recover.
  return new TransportError('unreachable', `${engine} failed for '${container}' (${reason})`, options);
}
