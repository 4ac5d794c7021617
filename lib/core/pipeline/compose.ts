import type { ResilienceContext } from './context.js';
import { STAGE_ORDER } from './order.js';
import type { FailureObserver, Next, Stage, StageHooks } from './stage.js';

/** The innermost step: the call's operation, its synchronous throw turned into a rejection. */
export function runOperation(context: ResilienceContext): Promise<unknown> {
  try {
    const result = context.operation(context);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** `stages` in `order` (outermost first); an unknown or repeated kind is an error. */
export function ordered(stages: readonly Stage[], order: readonly string[] = STAGE_ORDER): Stage[] {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (!order.includes(stage.kind)) {
      throw new TypeError(`compose: stage kind "${stage.kind}" is not in the order [${order.join(', ')}]`);
    }
    if (seen.has(stage.kind)) throw new TypeError(`compose: two stages of kind "${stage.kind}"`);
    seen.add(stage.kind);
  }
  return [...stages].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

function both(first: FailureObserver | undefined, second: FailureObserver): FailureObserver {
  return first ? (error, context) => first(error, context).then(() => second(error, context)) : second;
}

/**
 * Where each stage's failure observer runs: at the innermost stage that reports every
 * failure (a retry), if only stages that report their own rejections lie between; the
 * stages in that span report to it. Returns the hooks per stage and the observers placed.
 */
function placeObservers(stages: Stage[]): { hooks: StageHooks[]; placed: Set<Stage> } {
  const finalFailure: (FailureObserver | undefined)[] = stages.map(() => undefined);
  const recordAttempts = stages.map(() => false);
  const placed = new Set<Stage>();
  stages.forEach((stage, i) => {
    if (stage.wantsAttempts) for (let k = i + 1; k < stages.length; k++) recordAttempts[k] = true;
    const observe = stage.observeFailure;
    if (!observe) return;
    let host = -1;
    for (let j = i + 1; j < stages.length; j++) {
      const handling = stages[j].failures;
      if (handling === 'may-recover') break;
      if (handling === 'reports-all') {
        host = j;
        break;
      }
    }
    if (host < 0) return;
    placed.add(stage);
    for (let k = i + 1; k <= host; k++) finalFailure[k] = both(finalFailure[k], observe);
  });
  const hooks = stages.map((_, i) => ({ finalFailure: finalFailure[i], recordAttempts: recordAttempts[i] }));
  return { hooks, placed };
}

/**
 * One function that runs a call through `stages` in `order` (whatever order they are
 * given in), then its operation; built once, called per call with the call's context.
 * A stage that only observes failures costs the success path nothing when a stage
 * inside it already catches them (see FailureHandling).
 */
export function compose(stages: readonly Stage[], order: readonly string[] = STAGE_ORDER): Next {
  const sorted = ordered(stages, order);
  const { hooks, placed } = placeObservers(sorted);
  let next: Next = runOperation;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (placed.has(sorted[i])) continue;
    next = sorted[i].wrap(next, hooks[i]);
  }
  return next;
}
