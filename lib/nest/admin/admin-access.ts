import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
  type Type,
  UnauthorizedException,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { RESILIENCE_ADMIN } from '../tokens.js';
import { type AdminSettings, checkToken } from './admin-options.js';

export { RESILIENCE_ADMIN } from '../tokens.js';

/** What the admin routes read of a request, on Express and Fastify alike. */
export interface AdminRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
  ip?: string;
  user?: unknown;
}

/** Query parameters that look like a credential: a token in a URL ends up in logs and browser history. */
const CREDENTIAL_PARAM = /token|auth|secret|password|api[-_]?key|bearer/i;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may use the console: the configured token (compared in constant time, digests of
 * equal length so the length does not leak either) and the app's guard, both when both
 * are set. Resolved at bootstrap, so a bad token or an unresolvable guard fails the boot.
 */
@Injectable()
export class AdminAccess implements OnModuleInit {
  private expected?: Buffer;
  private guard?: CanActivate;

  constructor(
    @Inject(RESILIENCE_ADMIN) private readonly settings: AdminSettings,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.settings.token) this.expected = digest(checkToken(this.settings.token()));
    const { guard } = this.settings;
    if (typeof guard !== 'function') {
      this.guard = guard;
      return;
    }
    try {
      this.guard = this.moduleRef.get(guard as Type<CanActivate>, { strict: false });
    } catch {
      try {
        this.guard = await this.moduleRef.create(guard as Type<CanActivate>);
      } catch (error) {
        throw new Error(
          `ResilienceModule: admin.guard ${guard.name}: provide it in one of the app's modules, or make what it injects global (${(error as Error).message})`,
        );
      }
    }
  }

  get usesToken(): boolean {
    return this.settings.token !== undefined;
  }

  /**
   * False when the request comes from another origin than the page's (its Origin header, or
   * `Sec-Fetch-Site: cross-site`), unless `admin.allowedOrigins` lists it: the console's
   * protection must not depend on the app's CORS settings (a cookie guard with
   * `enableCors({ origin: true, credentials: true })` let any site force a breaker).
   */
  sameOrigin(request: AdminRequest): boolean {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (header('sec-fetch-site') === 'cross-site') return false;
    const origin = header('origin');
    if (origin === undefined) return true;
    if (this.settings.allowedOrigins.includes(origin)) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false; // 'null' (a sandboxed frame, a file) and anything unreadable
    }
    const own = [header('x-forwarded-host'), header('host')].filter((h): h is string => !!h);
    return own.some((h) => h.split(',')[0].trim().toLowerCase() === host.toLowerCase());
  }

  /** True when the request may go on; never says why not (every refusal is the same 401). */
  async allows(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    if (Object.keys(request.query ?? {}).some((name) => CREDENTIAL_PARAM.test(name))) return false;
    if (this.expected && !this.tokenMatches(request.headers.authorization)) return false;
    if (!this.guard) return true;
    try {
      const verdict = this.guard.canActivate(context);
      return (isObservable(verdict) ? await lastValueFrom(verdict) : await verdict) === true;
    } catch {
      return false;
    }
  }

  private tokenMatches(header: string | string[] | undefined): boolean {
    // The scheme is case-insensitive (RFC 9110).
    if (typeof header !== 'string' || !/^bearer /i.test(header)) return false;
    const given = header.slice(7).trim();
    // The digest of an empty token is compared too: the time taken says nothing.
    return timingSafeEqual(digest(given), this.expected as Buffer) && given.length > 0;
  }

  /** Who did it, for the audit line: the guard's user when there is one. */
  static who(request: AdminRequest): string {
    const user = request.user as Record<string, unknown> | string | undefined;
    const name =
      typeof user === 'string'
        ? user
        : ['username', 'email', 'name', 'sub', 'id']
            .map((k) => user?.[k])
            .find((v) => typeof v === 'string' || typeof v === 'number');
    return `${name ?? 'token holder'} (${request.ip ?? 'unknown address'})`;
  }
}

const MUTATIONS = new Set(['POST', 'DELETE']);

/**
 * The guard of every admin route but the page itself: 403 from another origin, the same 401
 * for every other refusal. A refused mutation leaves its audit line too.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly audit = new Logger('ResilienceAudit');

  constructor(private readonly access: AdminAccess) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest & { url?: string; originalUrl?: string }>();
    if (!this.access.sameOrigin(request)) {
      this.refused(request, 'refused: another origin');
      throw new ForbiddenException('the console answers its own origin only (admin.allowedOrigins lists others)');
    }
    if (await this.access.allows(context)) return true;
    this.refused(request, 'refused: not authorized');
    throw new UnauthorizedException();
  }

  private refused(request: AdminRequest & { url?: string; originalUrl?: string }, outcome: string): void {
    if (!MUTATIONS.has(String(request.method))) return;
    const what = `${request.method} ${(request.originalUrl ?? request.url ?? '').split('?')[0]}`;
    this.audit.warn(JSON.stringify({ at: new Date().toISOString(), who: AdminAccess.who(request), what, outcome }));
  }
}
