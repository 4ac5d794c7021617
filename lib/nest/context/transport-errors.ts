import { createRequire } from 'node:module';
import { CircuitOpenError, RateLimitExceededError } from '../../core/errors.js';

type ExceptionClass = new (error: object) => Error;

const load = (pkg: string, name: string): ExceptionClass | undefined => {
  try {
    return (createRequire(import.meta.url)(pkg) as Record<string, ExceptionClass>)[name];
  } catch {
    return undefined;
  }
};

let rpcException: ExceptionClass | undefined | null = null;
let wsException: ExceptionClass | undefined | null = null;

/**
 * Our errors for an RPC or WebSocket client: Nest turns any other error into "Internal
 * server error" there, so they become RpcException / WsException carrying the status a
 * client can act on (429, 503), the message and retryAfter. The two packages are optional
 * peers of Nest's: when absent, the error passes unchanged. Never an HTTP response.
 */
export function forTransport(type: string, error: unknown): unknown {
  if (!(error instanceof CircuitOpenError) && !(error instanceof RateLimitExceededError)) return error;
  let Exception: ExceptionClass | undefined;
  if (type === 'rpc') {
    if (rpcException === null) rpcException = load('@nestjs/microservices', 'RpcException');
    Exception = rpcException;
  } else if (type === 'ws') {
    if (wsException === null) wsException = load('@nestjs/websockets', 'WsException');
    Exception = wsException;
  }
  if (!Exception) return error;
  const status = error instanceof CircuitOpenError ? 503 : 429;
  return new Exception({ status, error: error.name, message: error.message, retryAfter: error.retryAfter });
}
