/**
 * Well-formed input, for every route in one place (docs/api.md, "Well-formed strings"). A JSON
 * string may spell a lone surrogate (`"gpt-4\udc00"`), which is not text: it has no UTF-8
 * encoding, so stored, logged or exported as a metric label it corrupts the output (one such
 * model name once made every /metrics scrape invalid). Raw bytes that are not UTF-8 would be
 * silently replaced by U+FFFD, and percent-encoding in a URL may not decode to UTF-8 at all.
 * This middleware refuses all of these with a 400 naming each field, before any validator or
 * handler runs, so no schema needs a rule of its own:
 *
 * - JSON bodies (POST, PATCH, PUT): the bytes must be UTF-8, and every string and object key of
 *   the parsed value must be well-formed UTF-16.
 * - Query parameters (names and values) and the matched route's path parameters: their
 *   percent-encoding must decode to UTF-8.
 *
 * Requests that match no route are left alone (they get their 404/405 unread).
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { malformedJson, toPointer, validationError, type FieldError } from '../errors';
import type { AppEnv } from '../types';

/** At most this many fields are reported per problem. */
const MAX_REPORTED = 20;
const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT']);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/**
 * A JSON escape of a surrogate code unit (`\uD800`–`\uDFFF`). Strictly decoded UTF-8 text can
 * only produce a lone surrogate through such an escape, so a body without one needs no walk.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const MESSAGES = {
  string:
    'is not well-formed UTF-16 text: it contains a lone surrogate (an unpaired \\uD800–\\uDFFF)',
  key: 'this object key is not well-formed UTF-16 text: it contains a lone surrogate',
  body: 'the request body is not well-formed UTF-8',
  encoded: 'is not well-formed: its percent-encoding does not decode to UTF-8 text',
} as const;

export function wellFormedInput() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const route = handlerRoute(c);
    if (route === undefined) return next();
    const errors: FieldError[] = [];
    if (c.req.url.includes('%')) checkUrl(c.req.url, route, errors);
    const type = c.req.header('Content-Type');
    if (BODY_METHODS.has(c.req.method) && type !== undefined && JSON_TYPE.test(type)) {
      // Read through the body-limit middleware, decoded once, strictly.
      const bytes = await c.req.arrayBuffer();
      let text: string;
      try {
        text = UTF8.decode(bytes);
      } catch {
        throw validationError([{ path: '/', message: MESSAGES.body }]);
      }
      // Hand the checked text to the route's validator (`c.req.json()` parses the cached text),
      // so the body is decoded once per request, not twice. `bodyCache` is Hono's public cache
      // (its validator fills it the same way); its type names the Body methods, not the promises.
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
      if (text.includes('\\u') && SURROGATE_ESCAPE.test(text)) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw malformedJson();
        }
        collectIllFormed(value, errors);
      }
    }
    if (errors.length > 0) throw validationError(errors.slice(0, MAX_REPORTED));
    await next();
  });
}

/** The path pattern of the handler route this request matched, if any. */
function handlerRoute(c: Context): string | undefined {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method !== 'ALL') return r.path;
  }
  return undefined;
}

function decodes(component: string): boolean {
  try {
    decodeURIComponent(component.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}

function checkUrl(href: string, route: string, errors: FieldError[]): void {
  const url = new URL(href);
  // Path parameters: align the raw segments with the route pattern's.
  const raw = url.pathname.split('/');
  const pattern = route.split('/');
  if (raw.length === pattern.length) {
    pattern.forEach((seg, i) => {
      if (seg.startsWith(':') && !decodes(raw[i]!))
        errors.push({
          path: toPointer([seg.slice(1).replace(/[{?].*$/, '')]),
          message: MESSAGES.encoded,
        });
    });
  }
  for (const part of url.search.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const nameOk = decodes(name);
    if (!nameOk || (eq >= 0 && !decodes(part.slice(eq + 1)))) {
      // A name that does not decode is shown as sent (percent-encoded), made safe like any key.
      const shown = nameOk ? decodeURIComponent(name.replace(/\+/g, ' ')) : name;
      errors.push({ path: toPointer([shown]), message: MESSAGES.encoded });
    }
  }
}

interface Node {
  value: unknown;
  parent: Node | null;
  key: string | number;
}

function pathOf(node: Node): Array<string | number> {
  const path: Array<string | number> = [];
  for (let n: Node | null = node; n?.parent; n = n.parent) path.push(n.key);
  return path.reverse();
}

/**
 * Every string and key of a parsed JSON value that is not well-formed, in document order.
 * Iterative with parent links, so a deeply nested body costs linear time and no call stack.
 */
export function collectIllFormed(root: unknown, errors: FieldError[]): void {
  const stack: Node[] = [{ value: root, parent: null, key: '' }];
  while (stack.length > 0 && errors.length < MAX_REPORTED) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (!v.isWellFormed())
        errors.push({ path: toPointer(pathOf(node)), message: MESSAGES.string });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: node, key: i });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      const children = keys.map(
        (key): Node => ({
          value: (v as Record<string, unknown>)[key],
          parent: node,
          key,
        }),
      );
      for (const child of children)
        if (!(child.key as string).isWellFormed())
          errors.push({ path: toPointer(pathOf(child)), message: MESSAGES.key });
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
}
