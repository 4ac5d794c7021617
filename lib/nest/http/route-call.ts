import type { ExecutionContext } from '@nestjs/common';
import { CUSTOM_ROUTE_ARGS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';

/** The route parameter type under which handlers receive a RouteCall. */
const PARAM_TYPE = 'nest-resilience:route-call';

/**
 * What a decorated route handler receives, as one more argument Nest resolves, when no
 * interceptor runs on it: the request (for keys) and the response (for headers). The
 * runtime takes it off before the method runs. It saves the route an interceptor's RxJS
 * chain on every request.
 */
export class RouteCall {
  constructor(
    readonly request: unknown,
    readonly response: unknown,
  ) {}
}

function routeCallOf(_data: unknown, context: ExecutionContext): RouteCall {
  const http = context.switchToHttp();
  return new RouteCall(http.getRequest(), http.getResponse());
}

/** Gives the route handler `methodName` of `controller` a RouteCall as its last argument (once). */
export function addRouteCallParam(controller: object, methodName: string, handler: { length: number }): void {
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodName) ?? {}) as Record<
    string,
    { index: number }
  >;
  if (Object.keys(metadata).some((key) => key.startsWith(PARAM_TYPE))) return;
  const index = Math.max(handler.length, ...Object.values(metadata).map((m) => m.index + 1));
  Reflect.defineMetadata(
    ROUTE_ARGS_METADATA,
    {
      ...metadata,
      [`${PARAM_TYPE}${CUSTOM_ROUTE_ARGS_METADATA}:${index}`]: {
        index,
        factory: routeCallOf,
        data: undefined,
        pipes: [],
      },
    },
    controller,
    methodName,
  );
}
