/**
 * The error types (ApplicationFailure `type`) that cross the worker/workflow boundary. Activities throw them,
 * retry policies name the ones not worth retrying, and the CLI shows them: one list, no string literals.
 */
export const ERROR_TYPE = {
  /** The config file is wrong or lacks what this step needs; retrying will not help. */
  config: 'ConfigError',
  /** A login was refused (SSH key, SASL, IMAP). */
  auth: 'AuthError',
  /** A host key did not match the pinned one, or none is pinned. */
  hostKey: 'HostKeyError',
  /** A container, file, program or host that should exist does not. */
  notFound: 'NotFoundError',
  /** Workflow input or parameters are malformed. */
  validation: 'ValidationError',
  /** A command's output could not be understood. */
  parse: 'ParseError',
  /** A command or host did not answer in time (retried). */
  transportTimeout: 'TransportTimeout',
  /** A host could not be reached (retried). */
  unreachable: 'Unreachable',
} as const;

export type ErrorType = (typeof ERROR_TYPE)[keyof typeof ERROR_TYPE];

/** Errors no retry can cure: activity retry policies list these as non-retryable. */
export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ERROR_TYPE.config,
  ERROR_TYPE.auth,
  ERROR_TYPE.hostKey,
  ERROR_TYPE.notFound,
  ERROR_TYPE.validation,
];
