/**
 * The detectors through the real /v1/check route: policy actions per type, redaction of several
 * types in one input, code-point offsets after astral characters, secrets blocking.
 */
import { describe, expect, it } from 'vitest';
import { check, createKey } from './helpers';

interface Decision {
  allowed: boolean;
  reasons: string[];
  findings: { type: string; start: number; end: number; action: string }[];
  redacted_input: unknown;
}

async function decide(key: string, input: unknown): Promise<Decision> {
  const res = await check(key, { model: 'gpt-4', operation: 'classify', input });
  expect(res.status).toBe(200);
  return res.json();
}

describe('detectors in the check pipeline', () => {
  it('redacts Norwegian phone numbers, IPs and e-mail with the default policy', async () => {
    const { key } = await createKey();
    const input =
      '🙂 Ring 912 34 567 eller +47 22 33 44 55, svar til kari@example.no fra 10.1.2.3.';
    const d = await decide(key, input);
    expect(d.allowed).toBe(true);
    expect(d.redacted_input).toBe(
      '🙂 Ring [PHONE] eller [PHONE], svar til [EMAIL] fra [IP_ADDRESS].',
    );
    // Offsets are code points: the emoji counts once.
    expect(d.findings[0]).toEqual({ type: 'phone', start: 7, end: 17, action: 'redact', path: '' });
    expect(JSON.stringify(d.findings)).not.toContain('912');
  });

  it('redacts person names and postal addresses with the default policy', async () => {
    const { key } = await createKey();
    const d = await decide(
      key,
      'Kunden Kari Nordmann, Storgata 5, 0155 Oslo, ringer om lånet. Nordmann vil ha avdragsfrihet.',
    );
    expect(d.allowed).toBe(true);
    expect(d.reasons).toEqual([]);
    expect(d.redacted_input).toBe(
      'Kunden [PERSON_NAME], [POSTAL_ADDRESS], ringer om lånet. [PERSON_NAME] vil ha avdragsfrihet.',
    );
    expect(d.findings.map((f) => [f.type, f.action])).toEqual([
      ['person_name', 'redact'],
      ['postal_address', 'redact'],
      ['person_name', 'redact'],
    ]);
  });

  it('blocks names when a key policy says block', async () => {
    const { key } = await createKey({
      name: 'block-names',
      policy: { detectors: { person_name: 'block' } },
    });
    const d = await decide(key, 'Send svaret til advokat Lie i morgen.');
    expect(d).toMatchObject({ allowed: false, reasons: ['contains_personal_data'] });
    expect(d.findings).toEqual([
      { type: 'person_name', start: 24, end: 27, action: 'block', path: '' },
    ]);
  });

  it('redacts a D-nummer, a kontonummer and an org.nr when the policy says redact', async () => {
    const { key } = await createKey({
      name: 'redact-all',
      policy: { default_detector_action: 'redact' },
    });
    const d = await decide(
      key,
      'D-nummer 55038500030, lønn til konto 1234.56.78903, leverandør org.nr. 923609016.',
    );
    expect(d.redacted_input).toBe(
      'D-nummer [NO_FODSELSNUMMER], lønn til konto [NO_KONTONUMMER], leverandør org.nr. [NO_ORGANISASJONSNUMMER].',
    );
  });

  it('does not flag order numbers, timestamps, versions or UUIDs', async () => {
    const { key } = await createKey();
    const d = await decide(
      key,
      'Ordre 15038500098 ble sendt 1700000000008 med versjon 10.0.19045.3803, sak 550e8400-e29b-41d4-a716-446655440000.',
    );
    expect(d).toMatchObject({ allowed: true, findings: [], redacted_input: null });
  });

  it('blocks secrets with contains_secret', async () => {
    const { key } = await createKey();
    const d = await decide(key, [
      { role: 'user', content: 'Her er nøkkelen min: AKIA2E0A8F3B244C9986' },
    ]);
    expect(d.allowed).toBe(false);
    expect(d.reasons).toEqual(['contains_secret']);
    expect(d.findings).toEqual([
      {
        type: 'secret_aws_access_key',
        start: 21,
        end: 41,
        action: 'block',
        path: '/0/content',
        message_index: 0,
      },
    ]);
  });
});
