/**
 * Test-only Worker entry for the end-to-end stack (`wrangler dev test/node/support/fault-worker.ts`
 * with the project's wrangler.toml): the real vakt — same app, same Durable Object classes, same
 * bindings — with faults injected into its dependencies when a request asks for them with the
 * `X-Test-Fault` header. Only this entry reads that header; production builds never contain it.
 *
 * Faults (comma-separated):
 * - `d1`               every D1 call throws, like a D1 outage (an API key not yet in the isolate's
 *                      cache then fails authentication with an unexpected error: a 500);
 * - `slow=<ms>`        every rate-limiter RPC (acquire, release, …) answers `ms` later (a slow
 *                      Durable Object);
 * - `rate-limiter`     every rate-limiter RPC throws (vakt then applies RATE_LIMIT_FAILURE_MODE).
 * The faults act on the dependency, so everything vakt does about them — status codes, metrics,
 * Sentry reports, audit rows, traces — is the real code path. With rate-limit leases that includes
 * not meeting the fault at all: a request its isolate answers from a lease makes no RPC. A request
 * meets a faulty limiter on its own path when its key is below the lease floor (limit < 80: every
 * request calls the object) or its isolate holds no lease for the key.
 */
import worker, { Metrics, RateLimiter } from '../../../src/index';
import type { Env } from '../../../src/env';

export { Metrics, RateLimiter };

interface Faults {
  d1: boolean;
  slowMs: number;
  rateLimiterError: boolean;
}

function parseFaults(header: string): Faults {
  const faults: Faults = { d1: false, slowMs: 0, rateLimiterError: false };
  for (const part of header.split(',').map((p) => p.trim())) {
    if (part === 'd1') faults.d1 = true;
    else if (part === 'rate-limiter') faults.rateLimiterError = true;
    else if (/^slow=\d+$/.test(part)) faults.slowMs = Number(part.slice(5));
    else throw new Error(`unknown fault ${part}`);
  }
  return faults;
}

function failingDb(): D1Database {
  return new Proxy({} as D1Database, {
    get: () => () => {
      throw new Error('D1_ERROR: injected outage (X-Test-Fault: d1)');
    },
  });
}

/** The namespace whose stubs delay and/or fail every RPC method before the real call. */
function faultyRateLimiter(ns: Env['RATE_LIMITER'], faults: Faults): Env['RATE_LIMITER'] {
  return {
    idFromName: (name: string) => ns.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = ns.get(id);
      return new Proxy(stub, {
        get(target, prop) {
          const method = Reflect.get(target, prop) as unknown;
          // Stubs answer every string property with an RPC method; leave the rest alone.
          if (typeof prop !== 'string' || prop === 'then' || typeof method !== 'function') {
            return method;
          }
          return async (...args: unknown[]) => {
            if (faults.slowMs > 0) await scheduler.wait(faults.slowMs);
            if (faults.rateLimiterError) {
              throw new Error('rate limiter unavailable (X-Test-Fault: rate-limiter)');
            }
            // Called without a `this`: workerd's RPC methods are bound already.
            return (method as (...a: unknown[]) => Promise<unknown>)(...args);
          };
        },
      });
    },
  } as Env['RATE_LIMITER'];
}

export default {
  ...worker,
  fetch(request, env, ctx) {
    const header = request.headers.get('X-Test-Fault');
    if (!header) return worker.fetch(request, env, ctx);
    const faults = parseFaults(header);
    const faulty: Env = {
      ...env,
      ...(faults.d1 ? { DB: failingDb() } : {}),
      ...(faults.slowMs > 0 || faults.rateLimiterError
        ? { RATE_LIMITER: faultyRateLimiter(env.RATE_LIMITER, faults) }
        : {}),
    };
    return worker.fetch(request, faulty, ctx);
  },
} satisfies ExportedHandler<
  Env,
  Parameters<NonNullable<typeof worker.queue>>[0]['messages'][number]['body']
>;
