import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { from, lastValueFrom, Observable, throwError } from 'rxjs';
import { DeadlineExceededError, RateLimitExceededError } from '../../core/errors.js';
import type { RateLimitVerdict } from '../../core/rate-limiter/types.js';
import { rejectionOf } from '../../core/rejections.js';
import { type CallContextStore, callContext } from '../context/call-context.js';
import { InboundDeadlines } from '../context/inbound-deadlines.js';
import { forTransport } from '../context/transport-errors.js';
import { methodRefOf } from '../decorators/wrap-method.js';
import { ResilienceRuntime } from '../resilience-runtime.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { RouteServices, routeOf } from './route-services.js';

/** Whole seconds for a Retry-After header: rounded up, at least 1. */
export function retryAfterHeader(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds)));
}

/** The handler sent the response itself (@Res()): headers can no longer be set. Express, then Fastify. */
function alreadySent(response: unknown): boolean {
  const r = response as { headersSent?: boolean; sent?: boolean; raw?: { headersSent?: boolean } } | undefined;
  return r?.headersSent === true || r?.sent === true || r?.raw?.headersSent === true;
}

/** The request of any context: HTTP's, or GraphQL's `context.req`. */
function requestOf(context: ExecutionContext): unknown {
  const type = context.getType<string>();
  if (type === 'http') return context.switchToHttp().getRequest();
  if (type === 'graphql') return (context.getArgByIndex(2) as { req?: unknown } | undefined)?.req;
  return undefined;
}

/**
 * Registered globally by ResilienceModule. Around every handler it sets the call
 * context (so a decorated method anywhere below can key a limit by IP, user or API
 * key), and on HTTP it writes the RateLimit headers and maps our errors:
 * CircuitOpenError and BulkheadRejectedError -> 503, RateLimitExceededError -> 429, with Retry-After;
 * TimeoutError (the timeout pattern) and DeadlineExceededError (the caller's deadline passed) -> 504;
 * RateLimiterShutdownError and ApplicationShutdownError (a call waiting for its turn or
 * for its next retry, cancelled by shutdown) -> 503 with Connection: close.
 * In GraphQL our errors carry `extensions: { code, retryAfter }`; over RPC and WebSockets
 * they become RpcException / WsException (context/transport-errors.ts).
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor {
  private readonly headerStyle;
  private readonly routes: RouteServices;
  private readonly routeService = new WeakMap<object, string | null>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    settings: ResilienceSettings,
    private readonly runtime: ResilienceRuntime,
    private readonly deadlines: InboundDeadlines,
  ) {
    this.headerStyle = settings.config.http?.rateLimitHeaders ?? 'ietf';
    this.routes = new RouteServices(settings.config.http?.routes);
  }

  /** The service `http.routes` maps an undecorated route to (decorated ones already run their stack). */
  private serviceOf(context: ExecutionContext): string | undefined {
    if (this.routes.empty) return undefined;
    const handler = context.getHandler();
    let service = this.routeService.get(handler);
    if (service === undefined) {
      const route = methodRefOf(handler) ? undefined : routeOf(context.getClass(), handler);
      service = (route && this.routes.serviceOf(route.verb, route.path)) ?? null;
      this.routeService.set(handler, service);
    }
    return service ?? undefined;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const store: CallContextStore = { type: context.getType<string>(), request: requestOf(context) };
    if (store.type !== 'http') {
      if (store.type === 'rpc') {
        this.deadlines.readRpc(store, context.getArgs());
        const deadline = this.deadlines.of(store);
        const now = this.deadlines.now();
        if (deadline !== undefined && deadline <= now)
          return throwError(() => forTransport('rpc', new DeadlineExceededError(now - deadline)));
      }
      return new Observable<unknown>((subscriber) =>
        callContext.run(store, () =>
          next.handle().subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => subscriber.error(forTransport(store.type, error)),
            complete: () => subscriber.complete(),
          }),
        ),
      );
    }
    const response = context.switchToHttp().getResponse();
    // A caller that has given up gets no work done: refused before the handler runs.
    const deadline = this.deadlines.of(store);
    if (deadline !== undefined) {
      const now = this.deadlines.now();
      if (deadline <= now)
        return throwError(() => this.toHttp(new DeadlineExceededError(now - deadline), response, store));
    }
    const service = this.serviceOf(context);
    const handle = service
      ? () =>
          from(
            this.runtime.invokeRoute(
              context.getHandler(),
              context.getClass().name,
              service,
              () => lastValueFrom(next.handle()),
              context.getArgs(),
            ),
          )
      : () => next.handle();
    // One subscriber does it all: the call context, the headers, the error mapping.
    return new Observable<unknown>((subscriber) =>
      callContext.run(store, () =>
        handle().subscribe({
          next: (value) => {
            this.writeVerdicts(response, store.verdicts);
            subscriber.next(value);
          },
          error: (error: unknown) => subscriber.error(this.toHttp(error, response, store)),
          complete: () => subscriber.complete(),
        }),
      ),
    );
  }

  /**
   * The end of a decorated route that ran without this interceptor (a RouteCall parameter):
   * the same headers and error mapping as intercept() gives.
   */
  finishRoute(result: Promise<unknown>, response: unknown, store: CallContextStore): Promise<unknown> {
    return result.then(
      (value) => {
        this.writeVerdicts(response, store.verdicts);
        return value;
      },
      (error: unknown) => {
        throw this.toHttp(error, response, store);
      },
    );
  }

  private writeVerdicts(response: unknown, verdicts: RateLimitVerdict[] | undefined): void {
    if (!verdicts?.length || alreadySent(response)) return;
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of rateLimitHeaders(verdicts, this.headerStyle)) adapter?.setHeader(response, name, value);
  }

  private toHttp(error: unknown, response: unknown, store: CallContextStore): unknown {
    const rejection = rejectionOf(error);
    if (!rejection) {
      this.writeVerdicts(response, store.verdicts);
      return error;
    }
    const { message } = error as Error;
    const sent = alreadySent(response);
    const adapter = this.adapterHost.httpAdapter;
    if (rejection.shutdown) {
      // The app is shutting down under this request: another replica can serve it. The
      // connection closes with the response; a kept-alive one would hold the server open.
      if (!sent) adapter?.setHeader(response, 'Connection', 'close');
      return new HttpException(
        { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message },
        HttpStatus.SERVICE_UNAVAILABLE,
        { cause: error },
      );
    }
    // A refusal says when to come back; a timeout (504) does not know.
    if (!sent && rejection.retryAfter !== undefined) {
      adapter?.setHeader(response, 'Retry-After', retryAfterHeader(rejection.retryAfter));
    }
    if (!(error instanceof RateLimitExceededError)) {
      this.writeVerdicts(response, store.verdicts);
      const status = rejection.status as HttpStatus;
      return new HttpException(
        { statusCode: status, error: STATUS_TEXT[rejection.status], message, retryAfter: rejection.retryAfter },
        status,
        { cause: error },
      );
    }
    // A limiter's refusal also says which limit it hit, in the RateLimit headers.
    const denied: RateLimitVerdict = {
      allowed: false,
      limiter: error.limiter ?? 'default',
      limit: error.limit ?? 0,
      remaining: error.remaining,
      retryAfter: error.retryAfter,
      resetAfter: error.resetAfter ?? error.retryAfter,
      window: error.window ?? 0,
    };
    this.writeVerdicts(response, [...(store.verdicts ?? []), denied]);
    return new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: STATUS_TEXT[429],
        message,
        retryAfter: error.retryAfter,
      },
      HttpStatus.TOO_MANY_REQUESTS,
      { cause: error },
    );
  }
}

const STATUS_TEXT = { 429: 'Too Many Requests', 503: 'Service Unavailable', 504: 'Gateway Timeout' } as const;
