/** Secrets: keys, tokens and generic assignments, and the placeholders that are not secrets. */
import { describe, expect, it } from 'vitest';
import { redact, scanText, type DetectorType } from './index';

describe('secrets', () => {
  const pem =
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA' +
    'q'.repeat(64) +
    '\n-----END RSA PRIVATE KEY-----';
  const jwt =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  it.each<[string, DetectorType | null]>([
    [pem, 'secret_private_key'],
    [
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
      null,
    ],
    [jwt, 'secret_jwt'],
    ['eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxIn0.sig', null], // header without alg
    ['AKIA2E0A8F3B244C9986', 'secret_aws_access_key'],
    ['AKIAIOSFODNN7EXAMPLE', null],
    ['ghp_' + 'aB3'.repeat(12), 'secret_github_token'],
    ['github_pat_' + 'a'.repeat(22) + '_' + 'B'.repeat(59), 'secret_github_token'],
    ['ghp_short', null],
    ['xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', 'secret_slack_token'],
    ['xoxb-your-token-here', null],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'secret_stripe_key'],
    ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'secret_stripe_key'],
    ['pk_live_4eC39HqLyjWDarjtT1zdp7dc', null],
    ['AIzaSyA-1234567890abcdefghijklmnopqrstu', 'secret_google_api_key'],
    ['password=Sommer2024!x', 'secret_generic'],
    ['"client_secret": "f8G7h6J5k4L3m2N1b0V9"', 'secret_generic'],
    ['DB_PASSWORD=hunter2', null], // too short
    ['password: changeme', null],
    ['token: string', null],
    ['api_key=${API_KEY}', null],
    ['const secret = process.env.SECRET_KEY;', null],
    ['max_tokens=4096', null],
  ])('%s → %s', (text, type) => {
    const types = scanText(text).map((d) => d.type);
    expect(types).toEqual(type ? [type] : []);
  });
  it('reports a generic assignment only once when the value is a known token', () => {
    expect(scanText('STRIPE_SECRET=sk_live_4eC39HqLyjWDarjtT1zdp7dc').map((d) => d.type)).toEqual([
      'secret_stripe_key',
    ]);
  });
  it('covers the value only, so redaction keeps the key', () => {
    const text = 'password=Sommer2024!x';
    expect(redact(text, scanText(text))).toBe('password=[SECRET_GENERIC]');
  });
});
