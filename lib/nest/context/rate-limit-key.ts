import { createHash } from 'node:crypto';
import type { ApiKeyValidator, RateKeyKind } from '../../config/types.js';
import { addressIdentity } from '../../core/rate-limiter/ip-prefix.js';

/**
 * The request a key or tier function sees: Express's `Request` or Fastify's, reduced to
 * what such functions read (`user` is whatever an authentication guard attached).
 */
export interface KeyRequest {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: an auth guard attaches a user of its own shape
  user?: any;
  [property: string]: unknown;
}

/** What a rate-limit key function receives. */
export interface RateLimitKeyContext {
  /** The decorated method's arguments. */
  args: unknown[];
  /** The current HTTP request (Express or Fastify); undefined outside HTTP (RPC, a job). */
  request?: KeyRequest;
  /** 'http', 'rpc', 'ws', 'graphql', or 'none' outside any handler. */
  type: string;
}

type AnyRecord = Record<string, unknown>;

function asRecord(value: unknown): AnyRecord | undefined {
  return typeof value === 'object' && value !== null ? (value as AnyRecord) : undefined;
}

/**
 * The client address as the framework computed it: Express's `req.ip` and Fastify's
 * `request.ip` honour the app's trust-proxy setting. X-Forwarded-For is never read here:
 * a client can write anything in it.
 */
export function clientIp(request: unknown): string | undefined {
  const r = asRecord(request);
  if (!r) return undefined;
  if (typeof r.ip === 'string' && r.ip) return r.ip;
  const socket = asRecord(r.socket) ?? asRecord(asRecord(r.raw)?.socket);
  return typeof socket?.remoteAddress === 'string' ? socket.remoteAddress : undefined;
}

function header(request: unknown, name: string): string | undefined {
  const headers = asRecord(asRecord(request)?.headers);
  const value = headers?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : undefined;
}

function userId(request: unknown): string | undefined {
  const user = asRecord(asRecord(request)?.user);
  const id = user?.id ?? user?.sub ?? user?.userId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** How the built-in keys read a request; the defaults are the safe shapes. */
export interface BuiltInKeyOptions {
  /** IPv6 clients count per network prefix of this many bits. Default 64; 128 counts each address. */
  ipv6Subnet?: number;
  /** The header `apiKey` reads. Default 'x-api-key'. */
  apiKeyHeader?: string;
  /** Decides whether a presented API key is genuine (see ApiKeyValidator). */
  validateApiKey?: ApiKeyValidator;
}

const DEFAULT_IPV6_SUBNET = 64;

function hashed(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 22);
}

/**
 * The API-key identity of a request, or undefined when it has none that can be trusted.
 * A header alone proves nothing: a client that sends a fresh random key per request must
 * not get a fresh bucket per request. So the header counts only when `validateApiKey`
 * accepts it; without a validator, only the identity an authentication guard established
 * (request.user) counts, since guards run before the limiter.
 */
function apiKeyIdentity(request: unknown, options: BuiltInKeyOptions): string | undefined {
  if (!options.validateApiKey) {
    const id = userId(request);
    return id === undefined ? undefined : `user:${id}`;
  }
  const presented = header(request, (options.apiKeyHeader ?? 'x-api-key').toLowerCase());
  if (!presented) return undefined;
  const verdict = options.validateApiKey(presented, request);
  if (verdict === true) return `apikey:${hashed(presented)}`;
  if (typeof verdict === 'string' && verdict) return `apikey:${verdict}`;
  return undefined;
}

/**
 * A built-in key: 'global' (one bucket), 'ip' (an IPv6 client by its /64, or the
 * configured `ipv6Subnet`), 'user' (request.user.id / sub / userId, else the IP),
 * 'apiKey' (a validated API key, hashed so that no secret is stored in a key; else the
 * authenticated user; else the IP). Outside HTTP, where there is no request, every call
 * shares 'global'.
 */
export function builtInKey(kind: RateKeyKind, request: unknown, options: BuiltInKeyOptions = {}): string {
  if (kind === 'global' || request === undefined) return 'global';
  if (kind === 'user') {
    const id = userId(request);
    if (id !== undefined) return `user:${id}`;
  } else if (kind === 'apiKey') {
    const identity = apiKeyIdentity(request, options);
    if (identity !== undefined) return identity;
  }
  // 'ip', and the fallback of the others: parsed only when used.
  const address = clientIp(request);
  return `ip:${address === undefined ? 'unknown' : addressIdentity(address, options.ipv6Subnet ?? DEFAULT_IPV6_SUBNET)}`;
}
