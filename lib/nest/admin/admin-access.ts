import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  type OnModuleInit,
  type Type,
  UnauthorizedException,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { type AdminSettings, checkToken } from './admin-options.js';

export const RESILIENCE_ADMIN = Symbol.for('nest-resilience:RESILIENCE_ADMIN');

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

/** The guard of every admin route but the page itself. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(private readonly access: AdminAccess) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (await this.access.allows(context)) return true;
    throw new UnauthorizedException();
  }
}
