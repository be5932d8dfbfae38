/**
 * Child spans for a request's subrequests, without touching the code that makes them: when span
 * export is on, the Worker's `env` is replaced (once per isolate and env) by a view whose
 * RATE_LIMITER stubs and AUDIT_QUEUE record a span in the current request's trace around every
 * call — the rate-limiter RPC (`kind: client`) and the audit queue send (`kind: producer`), the
 * way OpenTelemetry's binding instrumentations do it. Everything else is the original binding.
 *
 * The current trace comes from the AsyncLocalStorage (request-trace.ts), so a send that happens
 * in `waitUntil` after the response still lands in its request's trace.
 */
import type { Env } from '../env';
import { currentTrace, type AttributeValue } from './request-trace';

const wrapped = new WeakMap<Env, Env>();

/** `env` with instrumented RATE_LIMITER and AUDIT_QUEUE; the same object for the same `env`. */
export function instrumentedEnv(env: Env): Env {
  let out = wrapped.get(env);
  if (!out) {
    const rateLimiter = instrumentNamespace(env.RATE_LIMITER, 'RateLimiter');
    const queue = instrumentQueue(env.AUDIT_QUEUE, 'AUDIT_QUEUE');
    out = new Proxy(env, {
      get(target, prop) {
        if (prop === 'RATE_LIMITER') return rateLimiter;
        if (prop === 'AUDIT_QUEUE') return queue;
        return Reflect.get(target, prop) as unknown;
      },
    });
    wrapped.set(env, out);
    wrapped.set(out, out);
  }
  return out;
}

/** Runs `call` as a child span of the current request (if there is one). */
async function traced<T>(
  name: string,
  kind: 'client' | 'producer',
  attributes: Record<string, AttributeValue>,
  call: () => Promise<T>,
): Promise<T> {
  const trace = currentTrace();
  if (!trace) return call();
  const start = performance.now();
  const done = trace.track();
  try {
    const result = await call();
    trace.span(name, kind, start, performance.now(), attributes);
    return result;
  } catch (error) {
    trace.span(name, kind, start, performance.now(), attributes, { error });
    throw error;
  } finally {
    done();
  }
}

function instrumentNamespace<T extends object>(ns: T, className: string): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop !== 'get' || typeof value !== 'function') {
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      }
      return (...args: unknown[]) => {
        const stub = (value as (...a: unknown[]) => object).apply(target, args);
        return instrumentStub(stub, className);
      };
    },
  });
}

function instrumentStub<S extends object>(stub: S, className: string): S {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      // Stubs answer every property name with an RPC method; only string-named calls are RPCs.
      if (typeof prop !== 'string' || prop === 'then' || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        traced(
          `${className}.${prop}`,
          'client',
          {
            'rpc.system': 'cloudflare_durable_object',
            'rpc.service': className,
            'rpc.method': prop,
          },
          // Called as the stub hands it out, without a `this`: workerd's RPC methods are bound
          // already, and one called with the stub as `this` tries to send the stub along.
          () => (value as (...a: unknown[]) => Promise<unknown>)(...args),
        );
    },
  });
}

function instrumentQueue<Q extends object>(queue: Q, binding: string): Q {
  return new Proxy(queue, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => Promise<unknown>;
      if (prop !== 'send' && prop !== 'sendBatch') return fn.bind(target);
      return (...args: unknown[]) =>
        traced(
          `${binding} ${prop}`,
          'producer',
          {
            'messaging.system': 'cloudflare_queues',
            'messaging.destination.name': binding,
            'messaging.operation.type': 'send',
            ...(prop === 'sendBatch' && Array.isArray(args[0])
              ? { 'messaging.batch.message_count': args[0].length }
              : {}),
          },
          () => fn.apply(target, args),
        );
    },
  });
}
