import { createHash } from 'node:crypto';
import type { RateKeyKind } from '../../config/types.js';

/** What a rate-limit key function receives. */
export interface RateLimitKeyContext {
  /** The decorated method's arguments. */
  args: unknown[];
  /** The current HTTP request (Express or Fastify), when there is one. */
  request?: unknown;
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

/**
 * A built-in key: 'global' (one bucket), 'ip', 'user' (request.user.id / sub / userId,
 * else the IP), 'apiKey' (the X-API-Key header, hashed so that no secret is stored in a
 * key, else the IP). Outside HTTP, where there is no request, every call shares 'global'.
 */
export function builtInKey(kind: RateKeyKind, request: unknown): string {
  if (kind === 'global' || request === undefined) return 'global';
  const ip = `ip:${clientIp(request) ?? 'unknown'}`;
  if (kind === 'ip') return ip;
  if (kind === 'user') {
    const id = userId(request);
    return id === undefined ? ip : `user:${id}`;
  }
  const apiKey = header(request, 'x-api-key');
  return apiKey ? `apikey:${createHash('sha256').update(apiKey).digest('base64url').slice(0, 22)}` : ip;
}
