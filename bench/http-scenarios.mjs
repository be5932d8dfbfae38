/**
 * What `npm run bench` loads: the keys it creates and the /v1/check scenarios, each measured
 * against the ceiling (a bare Hono route) in the same rounds. Adding a scenario is adding one
 * entry here; http.mjs runs them in order and verifies each with one real request first.
 *
 * A scenario: `id` (short, used by --only and --profile), `label`, `key` (a name in KEYS),
 * `input` (the /v1/check `input`), optional `body` (the whole request instead), optional
 * `connections` (default: --connections), and `expect` ({status, check(body) → why-not | null}).
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
  // High enough never to trip during the run, so (a)–(c) measure the full allowed path
  // including the RATE_LIMITER round trip.
  fast: { name: 'bench', policy: { rate_limit: { limit: 1_000_000, window_s: 1 } } },
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
];
