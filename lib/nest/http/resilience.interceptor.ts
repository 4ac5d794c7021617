import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { catchError, type Observable, throwError } from 'rxjs';
import { CircuitOpenError, RateLimitExceededError } from '../../core/errors.js';

/** Whole seconds for a Retry-After header: rounded up, at least 1. */
export function retryAfterHeader(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds)));
}

/**
 * Maps our errors to HTTP responses: CircuitOpenError -> 503, RateLimitExceededError
 * -> 429, both with Retry-After. Outside HTTP (GraphQL, RPC, WebSocket) errors pass
 * through untouched: nothing assumes an HTTP response there.
 */
@Injectable()
export class ResilienceInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    return next.handle().pipe(catchError((error: unknown) => throwError(() => this.toHttp(error, context))));
  }

  private toHttp(error: unknown, context: ExecutionContext): unknown {
    if (!(error instanceof CircuitOpenError) && !(error instanceof RateLimitExceededError)) return error;
    const adapter = this.adapterHost.httpAdapter;
    const response = context.switchToHttp().getResponse();
    adapter?.setHeader(response, 'Retry-After', retryAfterHeader(error.retryAfter));
    if (error instanceof CircuitOpenError) {
      return new HttpException(
        {
          statusCode: HttpStatus.SERVICE_UNAVAILABLE,
          error: 'Service Unavailable',
          message: error.message,
          retryAfter: error.retryAfter,
        },
        HttpStatus.SERVICE_UNAVAILABLE,
        { cause: error },
      );
    }
    return new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: error.message,
        retryAfter: error.retryAfter,
      },
      HttpStatus.TOO_MANY_REQUESTS,
      { cause: error },
    );
  }
}
