import { IntrinsicException } from '@nestjs/common';
import { type Rejection, rejectionOf } from '../../core/rejections.js';
import { optionalPeer } from '../../runtime/optional-peer.js';

type ExceptionClass = new (error: object) => Error;

const load = (pkg: string, name: string): ExceptionClass | undefined =>
  optionalPeer<Record<string, ExceptionClass>>(pkg)?.[name];

/** The gRPC status of each of our HTTP statuses. */
const GRPC_CODES = { 429: 8, 503: 14, 504: 4 } as const;

let rpcException: ExceptionClass | undefined | null = null;
let wsException: ExceptionClass | undefined | null = null;

export type GraphQLResilienceCode = Rejection['graphql'];

/**
 * What a GraphQL client gets for our errors: graphql-js copies an error's `extensions` into
 * the response (Apollo and Mercurius alike), so `{ code, retryAfter }` reaches the client
 * in place of INTERNAL_SERVER_ERROR. An IntrinsicException, so Nest does not log it as an
 * ERROR: a rejection is an expected outcome, counted by the metrics. `cause` is our error.
 */
export class GraphQLResilienceError extends IntrinsicException {
  readonly extensions: { code: GraphQLResilienceCode; retryAfter?: number };

  constructor(error: Error & { retryAfter?: number }, code: GraphQLResilienceCode) {
    super(error.message, { cause: error });
    this.name = 'GraphQLResilienceError';
    this.extensions =
      error.retryAfter === undefined ? { code } : { code, retryAfter: Math.max(1, Math.ceil(error.retryAfter)) };
  }
}

function forGraphQL(error: unknown): unknown {
  const rejection = rejectionOf(error);
  return rejection ? new GraphQLResilienceError(error as Error, rejection.graphql) : error;
}

/**
 * Our errors for a GraphQL client (see GraphQLResilienceError), or an RPC or WebSocket client: Nest turns any other error into "Internal
 * server error" there, so they become RpcException / WsException carrying the status a
 * client can act on (429, 503), the message and retryAfter. The two packages are optional
 * peers of Nest's: when absent, the error passes unchanged. Never an HTTP response.
 */
export function forTransport(type: string, error: unknown): unknown {
  if (type === 'graphql') return forGraphQL(error);
  const rejection = rejectionOf(error);
  // A call cancelled by shutdown passes as it is: the client's connection is going away.
  if (!rejection || rejection.shutdown) return error;
  let Exception: ExceptionClass | undefined;
  if (type === 'rpc') {
    if (rpcException === null) rpcException = load('@nestjs/microservices', 'RpcException');
    Exception = rpcException;
  } else if (type === 'ws') {
    if (wsException === null) wsException = load('@nestjs/websockets', 'WsException');
    Exception = wsException;
  }
  if (!Exception) return error;
  const { name, message } = error as Error;
  const payload = { status: rejection.status, error: name, message, retryAfter: rejection.retryAfter };
  // gRPC reads a status code from `code` (else UNKNOWN): RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED.
  return new Exception(type === 'rpc' ? { ...payload, code: GRPC_CODES[rejection.status] } : payload);
}
