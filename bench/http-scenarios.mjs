/**
 * What `npm run bench` loads and reports: the keys it creates, the /v1/check scenarios (each
 * measured against the ceiling, a bare Hono route, at the same connection count in the same
 * round), the counters read from vakt's /metrics around each phase, and the targets. Adding a
 * scenario, a counter or a target is adding one entry here; bench/http.mjs runs them.
 *
 * A scenario: `id` (short, used by --only and --profile), `label`, `key` (a name in KEYS),
 * `input` (the /v1/check `input`), optional `body` (the whole request instead), optional
 * `connections` (default: --connections), and `expect` ({status, check(body) → why-not | null}),
 * checked with one real request before the run.
 */

// Inputs. Each is ~1 KB of text; (a) must trip no detector, (b) only `redact` detectors (the
// default policy redacts email/phone/ip_address), (c) a valid fødselsnummer, which blocks.
const PROSE =
  'Summarise the quarterly report for the board. Revenue grew steadily across the northern ' +
  'region while costs stayed flat, and the new logistics centre opened on schedule. The team ' +
  'recommends expanding the pilot programme, hiring two more analysts and revisiting the pricing ' +
  'model before the next planning cycle. Customer satisfaction improved after the support desk ' +
  'moved to longer opening hours, and churn fell compared with the previous quarter. Risks ' +
  'include supplier delays, currency movements and a tighter labour market in the capital. ';

/** `prefix` followed by prose, cut to `size` characters. */
export function fill(prefix, size) {
  let s = prefix;
  while (s.length < size) s += PROSE;
  return s.slice(0, size);
}

export const CLEAN_1K = fill('', 1024);
export const PII_1K = fill(
  'Forward this to kari.nordmann@example.no and ola.hansen@firma.no, copy ' +
    'support@vakt.example and per@example.com. ',
  1024,
);
export const BLOCKED_1K = fill(
  'Customer with fødselsnummer 01010012356 asked about the invoice. ',
  1024,
);

/**
 * Keys created through POST /admin/keys before the run. `spend` admissions are used up first
 * (so a key with limit 1 and spend 1 answers every measured request with 429).
 */
export const KEYS = {
  // A hot single key with a large limit: never trips during the run, so (a)–(c) measure the
  // full allowed path, and busy enough in one isolate to be decided from rate-limit leases.
  fast: { name: 'bench', policy: { rate_limit: { limit: 1_000_000, window_s: 60 } } },
  // Too small to lease: every admission is one RATE_LIMITER call, the rest are 429s.
  small: { name: 'bench-small', policy: { rate_limit: { limit: 60, window_s: 60 } } },
  limited: {
    name: 'bench-limited',
    policy: { rate_limit: { limit: 1, window_s: 86_400 } },
    spend: 1,
  },
};

export const SCENARIOS = [
  {
    id: 'a',
    label: '/v1/check (a) clean 1 KB',
    key: 'fast',
    input: CLEAN_1K,
    expect: {
      status: 200,
      check: (r) =>
        r.allowed === true && r.findings.length === 0 ? null : 'expected allowed, no findings',
    },
  },
  {
    id: 'b',
    label: '/v1/check (b) 1 KB, e-mails redacted',
    key: 'fast',
    input: PII_1K,
    expect: {
      status: 200,
      check: (r) =>
        r.allowed === true && typeof r.redacted_input === 'string' && r.findings.length >= 4
          ? null
          : 'expected allowed with redacted_input and ≥ 4 findings',
    },
  },
  {
    id: 'c',
    label: '/v1/check (c) blocked (fødselsnummer)',
    key: 'fast',
    input: BLOCKED_1K,
    expect: {
      status: 200,
      check: (r) =>
        r.allowed === false && r.reasons.includes('contains_personal_data')
          ? null
          : 'expected blocked for contains_personal_data',
    },
  },
  {
    id: 'd',
    label: '/v1/check (d) rate-limited key (429)',
    key: 'limited',
    input: CLEAN_1K,
    expect: { status: 429 },
  },
  {
    id: 'e',
    label: '/v1/check (e) small-limit key (60/min)',
    key: 'small',
    input: CLEAN_1K,
    expect: { status: 200 },
  },
];

/** Latency is judged at few connections too, where 2 cores are not saturated by queueing. */
export const LOW_CONNECTIONS = 4;
for (const id of ['a', 'd']) {
  const base = SCENARIOS.find((s) => s.id === id);
  SCENARIOS.push({
    ...base,
    id: `${id}${LOW_CONNECTIONS}`,
    label: `${base.label}, ${LOW_CONNECTIONS} connections`,
    connections: LOW_CONNECTIONS,
  });
}

/**
 * Counters read from vakt's /metrics before and after each vakt phase (after `settleMs`, so
 * background work such as lease returns and the metrics flush has landed), reported per
 * admitted (2xx) request. A family that does not exist (yet) shows as —.
 */
export const COUNTERS = [
  {
    family: 'rate_limit_object_calls_total',
    column: 'object calls / admitted',
    settleMs: 1500,
  },
];

/**
 * The targets (issues 13 and 18), each judged on this run's rows (`row(id)`: req/s `ratio`,
 * `p50Ratio`, `p99`, `admitted`, `counters[family]` …). A row that was not run is skipped.
 */
export const TARGETS = [
  {
    id: 'a',
    what: '(a) clean 1 KB req/s ≥ 0.5 × ceiling',
    got: (r) => r.ratio,
    met: (x) => x >= 0.5,
  },
  { id: 'd', what: '(d) 429s req/s ≥ 0.8 × ceiling', got: (r) => r.ratio, met: (x) => x >= 0.8 },
  {
    id: `a${LOW_CONNECTIONS}`,
    what: `(a) p50 at ${LOW_CONNECTIONS} connections ≤ 2 × the ceiling's`,
    got: (r) => r.p50Ratio,
    met: (x) => x <= 2,
  },
  {
    id: 'a',
    what: '(a) hot key: RATE_LIMITER object calls per admitted request ≤ 0.1',
    got: (r) => r.counters.rate_limit_object_calls_total / Math.max(1, r.admitted),
    met: (x) => x <= 0.1,
  },
];
