/**
 * Detector behaviour, rule by rule: every detector validates (checksums, dates, issuer ranges,
 * entropy) and near misses do not fire. Runs inside workerd.
 */
import { describe, expect, it } from 'vitest';
import { redact, scanText, type Detection, type DetectorType } from '../../src/pii';
import { fnrKind } from '../../src/pii/fodselsnummer';
import { isValidIban } from '../../src/pii/iban';
import { isIPv4, isIPv6 } from '../../src/pii/ip-address';
import { isValidKontonummer } from '../../src/pii/kontonummer';
import { isValidOrganisasjonsnummer } from '../../src/pii/organisasjonsnummer';
import { issuerAccepts, luhn } from '../../src/pii/payment-card';

/** The findings of `text` as `type:value` strings, easy to read in a table. */
function found(text: string): string[] {
  return scanText(text).map((d: Detection) => `${d.type}:${text.slice(d.start, d.end)}`);
}

describe('fødselsnummer validation', () => {
  it.each([
    ['02013299997', 1, 'Skatteetaten example, K1 by the old rule'],
    ['30108299920', 1, 'Skatteetaten 2032 example, remainder 0'],
    ['30108299939', 1, 'Skatteetaten 2032 example, remainder 1'],
    ['02013200184', 1, '2032 rule, remainder 1'],
    ['02013200001', 1, '2032 rule, remainder 2'],
    ['02013200281', 1, '2032 rule, remainder 3'],
    ['15038500047', 1, 'ordinary'],
    ['55038500030', 1, 'D-nummer (day + 40)'],
    ['15438500100', 1, 'H-nummer / NAV synthetic (month + 40)'],
    ['15838500002', 1, 'Skatteetaten synthetic (month + 80)'],
    ['55838500187', 1, 'synthetic D-nummer (day + 40, month + 80)'],
    ['29020000064', 1, '29 February of a leap year (2000)'],
    ['81212121223', 2, 'FH-nummer (no date; needs context)'],
    ['29020100085', 0, '29 February 1901/2001 does not exist'],
    ['31048500032', 0, '31 April'],
    ['15138500095', 0, 'month 13'],
    ['15038500098', 0, 'K1 remainder outside 0–3 (passes the kontonummer check)'],
    ['15038500048', 0, 'wrong K2'],
  ])('%s → %i (%s)', (value, kind) => {
    expect(fnrKind(value)).toBe(kind);
  });

  it('every fødselsnummer passes the kontonummer check, which is why format and context decide', () => {
    expect(isValidKontonummer('15038500047')).toBe(true);
    expect(isValidKontonummer('15038500098')).toBe(true);
    expect(isValidKontonummer('15038500048')).toBe(false);
  });
});

describe('fødselsnummer vs kontonummer in text', () => {
  it.each<[string, string[]]>([
    ['Fødselsnummer: 15038500047', ['no_fodselsnummer:15038500047']],
    ['Pasient 150385 00047 innlagt', ['no_fodselsnummer:150385 00047']],
    ['Søker: Kari, 15038500047, Bergen.', ['person_name:Kari', 'no_fodselsnummer:15038500047']],
    ['kontonr 15038500047', ['no_kontonummer:15038500047']],
    ['Betal til 1503.85.00047', ['no_kontonummer:1503.85.00047']],
    ['Konto 1234 56 78903', ['no_kontonummer:1234 56 78903']],
    ['kontonummer 12345678903', ['no_kontonummer:12345678903']],
    ['12345678903', []],
    ['fnr 12345678903', []],
    ['fnr 15038500098', []],
    ['Ordrenummer 15038500047 er sendt', []],
    ['Invoice no. 15038500047 is overdue', []],
    ['Faktura 1234.56.78903', []],
    ['fh-nummer 81212121223', ['no_fodselsnummer:81212121223']],
    ['Nummer 81212121223', []],
    ['Det var fint. 15038500047', ['no_fodselsnummer:15038500047']],
    ['Se ordre 42. Fnr 15038500047', ['no_fodselsnummer:15038500047']],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('organisasjonsnummer', () => {
  it('validates mod-11 and the leading 8/9', () => {
    expect(isValidOrganisasjonsnummer('923609016')).toBe(true);
    expect(isValidOrganisasjonsnummer('923609017')).toBe(false);
    expect(isValidOrganisasjonsnummer('123609016')).toBe(false);
  });
  it.each<[string, string[]]>([
    ['Org.nr. 923609016', ['no_organisasjonsnummer:923609016']],
    ['NO 923 609 016 MVA', ['no_organisasjonsnummer:923 609 016']],
    ['NO923609016MVA', ['no_organisasjonsnummer:923609016']],
    ['Nordlys AS, 923 609 016, Oslo', ['no_organisasjonsnummer:923 609 016']],
    ['923609016', []],
    ['Ordre 923609016', []],
    ['kr 923 609 016', []],
    ['org.nr 923609017', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('IBAN', () => {
  it.each([
    ['NO9386011117947', true],
    ['DE89370400440532013000', true],
    ['GB82WEST12345698765432', true],
    ['NO9386011117948', false], // mod-97 fails
    ['NO9386011117', false], // wrong length for NO
    ['XX9386011117947', false], // unknown country
  ])('%s → %s', (value, ok) => {
    expect(isValidIban(value)).toBe(ok);
  });
  it('checks the kontonummer inside a Norwegian IBAN', () => {
    // NO + valid mod-97 check digits over an account number whose mod-11 fails.
    const bban = '86011117948';
    const digits = `${bban}2324` + '00'; // N=23, O=24
    let rem = 0;
    for (const d of digits) rem = (rem * 10 + Number(d)) % 97;
    const iban = `NO${String(98 - rem).padStart(2, '0')}${bban}`;
    expect(isValidKontonummer(bban)).toBe(false);
    expect(isValidIban(iban)).toBe(false);
  });
  it('finds grouped and compact IBANs', () => {
    expect(found('IBAN NO93 8601 1117 947 og DE89 3704 0044 0532 0130 00.')).toEqual([
      'iban:NO93 8601 1117 947',
      'iban:DE89 3704 0044 0532 0130 00',
    ]);
  });
});

describe('payment cards', () => {
  it('needs Luhn and an issuer range with a matching length', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(issuerAccepts('4111111111111111')).toBe(true);
    expect(issuerAccepts('378282246310005')).toBe(true);
    expect(issuerAccepts('3782822463100050')).toBe(false); // Amex is 15 digits
    expect(issuerAccepts('1700000000008')).toBe(false); // ms timestamp: no issuer starts with 1
  });
  it.each<[string, string[]]>([
    ['Kort 4111 1111 1111 1111', ['payment_card:4111 1111 1111 1111']],
    ['card 4111-1111-1111-1111', ['payment_card:4111-1111-1111-1111']],
    ['Amex 3782 822463 10005', ['payment_card:3782 822463 10005']],
    ['paid with 5555555555554444.', ['payment_card:5555555555554444']],
    ['4111111111111112', []],
    ['created_at: 1700000000008', []],
    ['Ordrenummer 4111111111111111', []],
    ['Ordre 12: betalt med kort 4111111111111111', ['payment_card:4111111111111111']],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('phone numbers', () => {
  it.each<[string, string[]]>([
    ['Ring 912 34 567', ['phone:912 34 567']],
    ['Tlf: 22 33 44 55', ['phone:22 33 44 55']],
    ['+47 912 34 567', ['phone:+47 912 34 567']],
    ['+4791234567', ['phone:+4791234567']],
    ['0047 91234567', ['phone:0047 91234567']],
    ['mobil 41234567', ['phone:41234567']],
    ['Call +1 415 555 2671', ['phone:+1 415 555 2671']],
    ['+44 20 7946 0958', ['phone:+44 20 7946 0958']],
    ['+46 8 123 456 78', ['phone:+46 8 123 456 78']],
    ['91234567', []],
    ['Dato 20240115', []],
    ['tlf 12345678', []],
    ['+47 12345678', []],
    ['kr 22 33 44 55', []],
    ['3+4791234567', []],
    ['+1 015 555 2671', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('IP addresses', () => {
  it('validates IPv4 and IPv6 syntax', () => {
    expect(isIPv4('192.168.1.10')).toBe(true);
    expect(isIPv4('256.1.1.1')).toBe(false);
    expect(isIPv4('01.2.3.4')).toBe(false);
    expect(isIPv6('2001:db8::1')).toBe(true);
    expect(isIPv6('2001:0db8:85a3:0000:0000:8a2e:0370:7334')).toBe(true);
    expect(isIPv6('::ffff:192.0.2.1')).toBe(true);
    expect(isIPv6('1::2::3')).toBe(false);
    expect(isIPv6('12:30:45')).toBe(false);
  });
  it.each<[string, string[]]>([
    ['from 192.168.1.10:8080', ['ip_address:192.168.1.10']],
    ['net 10.0.0.0/8', ['ip_address:10.0.0.0']],
    ['host 2001:db8::1.', ['ip_address:2001:db8::1']],
    ['DNS 1.1.1.1', ['ip_address:1.1.1.1']],
    ['Windows 10.0.19045.3803', []],
    ['version 2.4.1.0', []],
    ['v1.2.3.4', []],
    ['1.2.3.4', []],
    ['kl 12:30:45', []],
    ['MAC 00:1a:2b:3c:4d:5e', []],
    ['std::vector<int>', []],
    ['pi 3.14159', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('e-mail', () => {
  it.each<[string, string[]]>([
    ['Send til ola.nordmann@example.no.', ['email:ola.nordmann@example.no']],
    ['<Kari+tag@post.example.com>', ['email:Kari+tag@post.example.com']],
    ['icon@2x.png', []],
    ['lodash@4.17.21', []],
    ['ola@localhost', []],
    ['@ola_nordmann', []],
    ['a@-bad.com', []],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

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

describe('redaction', () => {
  it('replaces each finding with its type', () => {
    const text = 'Fnr 15038500047, e-post ola@example.no, tlf 912 34 567.';
    expect(redact(text, scanText(text))).toBe(
      'Fnr [NO_FODSELSNUMMER], e-post [EMAIL], tlf [PHONE].',
    );
  });
  it('merges overlapping findings into one span labelled by the first', () => {
    const text = '0123456789';
    const out = redact(text, [
      { type: 'phone', start: 2, end: 6 },
      { type: 'email', start: 4, end: 8 },
      { type: 'iban', start: 8, end: 9 },
    ]);
    expect(out).toBe('01[PHONE][IBAN]9');
  });
  it('leaves text without findings untouched', () => {
    expect(redact('hei', [])).toBe('hei');
  });
  it('reports UTF-16 offsets; text after astral characters stays aligned', () => {
    const text = '😀 fnr 15038500047';
    const [d] = scanText(text);
    expect(text.slice(d!.start, d!.end)).toBe('15038500047');
  });
});
