import type { CanActivate, Type } from '@nestjs/common';

/** The `admin` option of `ResilienceModule.forRoot`: the operator's console (JSON API and status page). */
export interface ResilienceAdminOptions {
  /** Off unless true: nothing is served otherwise, in any environment. */
  enabled?: boolean;
  /** Where the page is served and the API under it (default '/resilience'; the app's global prefix goes before it). */
  path?: string;
  /**
   * A shared secret, sent as `Authorization: Bearer <token>` (16 characters at least), or a
   * function read once at bootstrap (e.g. a secret loaded after the module was imported).
   */
  token?: string | (() => string | undefined);
  /**
   * The app's own auth: a `CanActivate` class (the instance the app provides, found in any
   * module, else one created here) or instance. With a token too, both must pass. Whoever it
   * puts on `request.user` is named in the audit lines.
   */
  guard?: Type<CanActivate> | CanActivate;
  /**
   * Bounds of one replay request: letters at most (default 1000), replays per second at most
   * (default 50), and how long it may take at most, limit / rate (default 600 s: a replay holds
   * its queue, and app.close() stops it between letters).
   */
  replay?: { maxLimit?: number; maxRatePerSecond?: number; maxDurationSeconds?: number };
  /**
   * Origins (`https://ops.example.com`) that may call the API besides the page's own. A request
   * from any other origin is refused (403), whatever the app's CORS settings allow: a cookie
   * guard with `enableCors({ origin: true, credentials: true })` let any site force a breaker.
   */
  allowedOrigins?: string[];
}

/** The admin options, checked and with their defaults. */
export interface AdminSettings {
  enabled: boolean;
  path: string;
  token?: () => string | undefined;
  guard?: Type<CanActivate> | CanActivate;
  replay: { maxLimit: number; maxRatePerSecond: number; maxDurationSeconds: number };
  allowedOrigins: string[];
}

export const MIN_TOKEN_LENGTH = 16;

const fail = (path: string, message: string): never => {
  throw new TypeError(`ResilienceModule.forRoot: admin.${path} ${message}`);
};

const isGuard = (guard: unknown): guard is Type<CanActivate> | CanActivate =>
  typeof guard === 'function' ||
  (!!guard && typeof guard === 'object' && typeof (guard as CanActivate).canActivate === 'function');

/** A token, checked when it is read (at bootstrap for a function). */
export function checkToken(token: unknown): string {
  if (typeof token !== 'string') return fail('token', `must be a string, got ${typeof token}`);
  // Spaces and line breaks around it are not part of it: `readFileSync(secretFile, 'utf8')` ends
  // with a newline, and the token compared with it never matched what the operator typed.
  const trimmed = token.trim();
  if (trimmed.length < MIN_TOKEN_LENGTH) {
    return fail('token', `must have ${MIN_TOKEN_LENGTH} characters at least (it can force breakers and purge letters)`);
  }
  return trimmed;
}

function positive(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return fail(path, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates `admin` at forRoot: a TypeError naming the setting, as the module's other options do. */
export function adminSettings(options: ResilienceAdminOptions | undefined): AdminSettings {
  const raw = (options ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object') fail('', 'must be an object');
  const known = ['enabled', 'path', 'token', 'guard', 'replay', 'allowedOrigins'];
  for (const key of Object.keys(raw))
    if (!known.includes(key)) fail(key, `is not a setting (known: ${known.join(', ')})`);
  const { enabled = false, path = '/resilience', token, guard, replay = {}, allowedOrigins = [] } = raw;
  if (typeof enabled !== 'boolean') fail('enabled', `must be a boolean, got ${JSON.stringify(enabled)}`);
  if (typeof path !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(path)) {
    fail('path', `must be a path such as '/resilience', got ${JSON.stringify(path)}`);
  }
  if (token !== undefined && typeof token !== 'function') checkToken(token);
  if (guard !== undefined && !isGuard(guard)) fail('guard', 'must be a CanActivate class or instance');
  if (enabled && token === undefined && guard === undefined) {
    fail('enabled', 'needs admin.token or admin.guard: the console can force breakers and purge dead letters');
  }
  const bounds = replay as Record<string, unknown>;
  for (const key of Object.keys(bounds)) {
    if (!['maxLimit', 'maxRatePerSecond', 'maxDurationSeconds'].includes(key))
      fail(`replay.${key}`, 'is not a setting');
  }
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every(isOrigin)) {
    fail(
      'allowedOrigins',
      `must be a list of origins such as 'https://ops.example.com', got ${JSON.stringify(allowedOrigins)}`,
    );
  }
  return {
    enabled: enabled as boolean,
    path: (path as string).replace(/\/$/, ''),
    token:
      token === undefined ? undefined : typeof token === 'function' ? (token as () => string) : () => token as string,
    guard: guard as AdminSettings['guard'],
    replay: {
      maxLimit: positive(bounds.maxLimit, 'replay.maxLimit', 1000),
      maxRatePerSecond: positive(bounds.maxRatePerSecond, 'replay.maxRatePerSecond', 50),
      maxDurationSeconds: positive(bounds.maxDurationSeconds, 'replay.maxDurationSeconds', 600),
    },
    allowedOrigins: (allowedOrigins as string[]).map((origin) => new URL(origin).origin),
  };
}

function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}
