/** The Sentry scrubber as pure functions: what is redacted, what survives, and the event shape. */
import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/keys/crypto';
import { isValidDsn } from '../../src/observability/report';
import {
  createScrubber,
  MAX_SCRUBBED_STRING,
  scrubBreadcrumb,
  redactEmails,
  scrubEvent,
  stripQuery,
  type ScrubbableEvent,
} from '../../src/observability/scrub';

const SECRET = 'admin-token-for-tests';
const scrub = createScrubber([SECRET, undefined, 'short']);
const KEY = generateApiKey();

/**
 * `[*]` in an expected text stands for any redaction marker: a value caught by a vakt detector
 * carries the detector's label (e.g. `[PAYMENT_CARD]`), one caught only by the scrubber's
 * fallbacks is `[NUMBER]`; which one applies depends on the registered detector set.
 */
function template(expected: string): RegExp {
  const parts = expected.split('[*]').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp('^' + parts.join('\\+?\\[[A-Z_]+\\]') + '$');
}
const MARKER = expect.stringMatching(/^\[[A-Z_]+\]$/);

describe('createScrubber', () => {
  it.each([
    [
      'a valid fødselsnummer (vakt detector)',
      'fnr 01010012356 here',
      'fnr [NO_FODSELSNUMMER] here',
    ],
    ['an 11-digit number with a wrong checksum', 'fnr 01010012357', 'fnr [NUMBER]'],
    ['an e-mail address', 'mail kari.nordmann@example.no!', 'mail [EMAIL]!'],
    ['a card number with spaces', 'card 4111 1111 1111 1111.', 'card [*].'],
    ['a card number with dashes', 'card 4111-1111-1111-1111', 'card [*]'],
    ['a card number without separators', 'card 4111111111111111', 'card [*]'],
    ['a phone number', 'call +47 912 34 567', 'call [*]'],
    ['a full vakt API key', `key ${KEY} used`, 'key [VAKT_API_KEY] used'],
    ['a truncated vakt API key', `key ${KEY.slice(0, 20)}`, 'key [VAKT_API_KEY]'],
    ['a bearer token', 'Authorization: Bearer abcdefgh12345678', 'Authorization: [FILTERED]'],
    ['a lower-case bearer token', 'got bearer abcdefgh12345678', 'got bearer [FILTERED]'],
    ['a JSON credential', '{"x-api-key":"sk-live-123"}', '{"x-api-key":"[FILTERED]"}'],
    ['a query credential', 'url?token=abc123&x=1', 'url?token=[FILTERED]&x=1'],
    ['a password assignment', 'password=hunter2', 'password=[FILTERED]'],
    ['a configured secret literal', `token was ${SECRET}!`, 'token was [SECRET]!'],
    ['an IPv4 address', 'from 192.0.2.44 via', 'from [IP_ADDRESS] via'],
  ])('redacts %s', (_name, input, expected) => {
    expect(scrub(input)).toMatch(template(expected));
  });

  it.each([
    ['a UUID', 'request 0f8fad5b-d9cb-469f-a165-70867728950e failed'],
    ['a UUID with a long digit prefix', 'key 12345678-1234-4abc-8def-0123456789ab'],
    ['a route pattern', 'POST /admin/keys/:id'],
    ['a hex trace id', '9e52c81509c24113b282e542338eb34b'],
    ['prose about tokens and auth', 'Unexpected token } in JSON; Basic auth is disabled'],
    ['short numbers', 'retry 3 of 5 after 1500 ms, status 503'],
    ['an 8-digit number', 'row 12345678'],
    ['a secret shorter than 8 characters is not a literal', 'a short word'],
  ])('keeps %s', (_name, input) => {
    expect(scrub(input)).toBe(input);
  });

  it('bounds the work on long strings', () => {
    const out = scrub('x'.repeat(MAX_SCRUBBED_STRING * 4));
    expect(out.length).toBeLessThan(MAX_SCRUBBED_STRING + 20);
    expect(out.endsWith('[truncated]')).toBe(true);
  });
});

describe('redactEmails (the fallback behind the e-mail detector)', () => {
  it.each([
    ['an address before punctuation', 'mail kari.nordmann@example.no!', 'mail [EMAIL]!'],
    [
      'quoted and bracketed addresses',
      '"z@q.io", <first.last+tag@sub.example.co.uk>',
      '"[EMAIL]", <[EMAIL]>',
    ],
    ['two addresses', 'two: a@b.no c@d.se', 'two: [EMAIL] [EMAIL]'],
    ['no dotted domain (kept)', 'user@localhost', 'user@localhost'],
    ['a one-letter TLD (kept)', 'a@b.c', 'a@b.c'],
    ['no local part (kept)', '@example.no', '@example.no'],
    ['1000 × "a@" (kept, linear)', 'a@'.repeat(1000), 'a@'.repeat(1000)],
    [
      'a local part past 64 characters',
      'x'.repeat(5000) + '@example.no',
      'x'.repeat(4936) + '[EMAIL]',
    ],
  ])('%s', (_name, input, expected) => {
    expect(redactEmails(input)).toBe(expected);
  });
});

describe('scrubEvent', () => {
  it('keeps only method and path of the request and removes the user', () => {
    const event: ScrubbableEvent = {
      request: {
        method: 'POST',
        url: 'https://vakt.test/v1/check?email=kari%40example.no&fnr=01010012356',
        headers: { authorization: `Bearer ${KEY}`, 'x-api-key': KEY, cookie: 'a=b' },
        cookies: { session: KEY },
        query_string: 'email=kari%40example.no',
        data: '{"input":"01010012356"}',
        env: { REMOTE_ADDR: '192.0.2.1' },
      },
      user: { ip_address: '192.0.2.1', email: 'kari@example.no' },
      server_name: 'host',
    };
    expect(scrubEvent(event, scrub)).toEqual({
      request: { method: 'POST', url: 'https://vakt.test/v1/check' },
    });
  });

  it('scrubs messages, exception values, frames, extra, contexts, tags and breadcrumbs', () => {
    const event: ScrubbableEvent = {
      message: 'saw kari@example.no',
      logentry: { message: 'saw %s', params: ['kari@example.no', 4111111111111111] },
      exception: {
        values: [
          {
            type: 'Error',
            value: `bad key ${KEY}`,
            mechanism: { data: { input: '01010012356' } },
            stacktrace: {
              frames: [
                {
                  vars: { email: 'kari@example.no' },
                  context_line: 'const fnr = "01010012356";',
                  pre_context: ['// kari@example.no'],
                  post_context: ['// 4111 1111 1111 1111'],
                },
              ],
            },
          },
        ],
      },
      breadcrumbs: [{ message: 'GET ?q=kari@example.no', data: { url: 'x', token: 'abc' } }],
      extra: {
        'kari@example.no': 'key is personal data too',
        deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 'too deep' } } } } } } } } },
        headers: { authorization: 'Bearer x' },
        count: 3,
        fnrAsNumber: 1010012356,
      },
      contexts: {
        trace: { trace_id: '01010012356abcdef', span_id: '0101001235600000' },
        queue: { message: 'failed for kari@example.no' },
      },
      tags: { request_id: '01010012356', route: '/v1/check' },
      transaction: 'POST /v1/check',
      fingerprint: ['{{ default }}', 'kari@example.no'],
    };
    const out = scrubEvent(event, scrub)!;
    expect(out.message).toBe('saw [EMAIL]');
    expect(out.logentry).toEqual({ message: 'saw %s', params: ['[EMAIL]', MARKER] });
    const ex = out.exception!.values![0]!;
    expect(ex.value).toBe('bad key [VAKT_API_KEY]');
    expect(ex.mechanism!.data).toEqual({ input: '[NO_FODSELSNUMMER]' });
    expect(ex.stacktrace!.frames![0]).toEqual({
      vars: { email: '[EMAIL]' },
      context_line: 'const fnr = "[NO_FODSELSNUMMER]";',
      pre_context: ['// [EMAIL]'],
      post_context: [expect.stringMatching(template('// [*]'))],
    });
    expect(out.breadcrumbs).toEqual([
      { message: 'GET ?q=[EMAIL]', data: { url: 'x', token: '[FILTERED]' } },
    ]);
    expect(out.extra).toEqual({
      '[EMAIL]': 'key is personal data too',
      deep: { a: { b: { c: { d: { e: { f: { g: '[FILTERED]' } } } } } } },
      headers: '[FILTERED]',
      count: 3,
      fnrAsNumber: '[NUMBER]',
    });
    // SDK trace ids are left alone; our contexts are scrubbed.
    expect(out.contexts).toEqual({
      queue: { message: 'failed for [EMAIL]' },
      trace: { trace_id: '01010012356abcdef', span_id: '0101001235600000' },
    });
    expect(out.tags).toEqual({ request_id: '[NO_FODSELSNUMMER]', route: '/v1/check' });
    expect(out.fingerprint).toEqual(['{{ default }}', '[EMAIL]']);
  });

  it('drops the event (null) rather than send it unscrubbed when scrubbing fails', () => {
    const failing = () => {
      throw new Error('scrubber bug');
    };
    expect(scrubEvent({ message: 'kari@example.no' }, failing)).toBeNull();
    expect(scrubBreadcrumb({ message: 'kari@example.no' }, failing)).toBeNull();
  });

  it('bounds the number of values walked', () => {
    const extra = { list: Array.from({ length: 5000 }, (_, i) => `item ${i}`) };
    const out = scrubEvent({ extra }, scrub)!;
    const list = out.extra!.list as string[];
    expect(list).toHaveLength(5000);
    expect(list[0]).toBe('item 0');
    expect(list.at(-1)).toBe('[FILTERED]');
  });
});

describe('stripQuery', () => {
  it.each([
    ['https://vakt.test/v1/check?x=1#frag', 'https://vakt.test/v1/check'],
    ['https://vakt.test/health', 'https://vakt.test/health'],
    ['not a url?secret=1', 'not a url'],
  ])('%s → %s', (input, expected) => {
    expect(stripQuery(input)).toBe(expected);
  });
});

describe('isValidDsn', () => {
  it.each([
    ['https://abc123@o1.ingest.sentry.io/4501', true],
    ['http://public@127.0.0.1:9999/1', true],
    ['https://abc@sentry.example.com/sub/path/42', true],
    ['https://o1.ingest.sentry.io/4501', false],
    ['https://abc@o1.ingest.sentry.io/project', false],
    ['ftp://abc@host/1', false],
    ['not a dsn', false],
  ])('%s → %s', (dsn, valid) => {
    expect(isValidDsn(dsn)).toBe(valid);
  });
});
