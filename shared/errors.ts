/** Stable error codes of the domain. The HTTP layer maps each to a status in one table. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_LARGE'
  | 'UPSTREAM_REFUSED'
  | 'UPSTREAM_UNAVAILABLE';

/** The only error type use cases throw on purpose; anything else is a bug (500). */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new DomainError('BAD_REQUEST', message, details);
export const notFound = (message: string) => new DomainError('NOT_FOUND', message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new DomainError('CONFLICT', message, details);
export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);
export const unauthorized = (message: string) => new DomainError('UNAUTHORIZED', message);
