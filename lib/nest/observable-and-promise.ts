import { from, type Observable } from 'rxjs';

/**
 * The result of a call whose method's declared type could not tell an Observable from a
 * Promise (`import { type Observable }` compiles to Function) and had not run yet when the
 * caller got its answer (the pipeline awaited first, as a Redis rate limit does): an
 * Observable of the result that is a thenable too, so `.pipe()`, `lastValueFrom()` and
 * `await` all work. It is the one call: subscribing twice does not call twice. A rejection
 * nobody takes still reaches `unhandledRejection`, as the Promise's would.
 */
export function observableAndPromise<T>(promise: Promise<T>): Observable<T> & PromiseLike<T> {
  return Object.assign(from(promise), {
    // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose (the caller may await it)
    then: promise.then.bind(promise),
    catch: promise.catch.bind(promise),
    finally: promise.finally.bind(promise),
  });
}
