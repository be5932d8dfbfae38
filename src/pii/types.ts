/**
 * The detector contract. A detector finds one kind of personal data or secret in text and
 * validates every candidate (checksums, dates, issuer ranges, entropy) before reporting it.
 *
 * Offsets are UTF-16 code-unit indices into the scanned string (JavaScript string indices);
 * the governance pipeline converts them to Unicode code points for the public API.
 */

/** Every finding type vakt reports. Policies name these in `detectors`. */
export const PERSONAL_DATA_TYPES = [
  'no_fodselsnummer',
  'no_organisasjonsnummer',
  'no_kontonummer',
  'iban',
  'payment_card',
  'email',
  'phone',
  'ip_address',
  'person_name',
  'postal_address',
] as const;

export const SECRET_TYPES = [
  'secret_private_key',
  'secret_jwt',
  'secret_aws_access_key',
  'secret_github_token',
  'secret_slack_token',
  'secret_stripe_key',
  'secret_google_api_key',
  'secret_generic',
] as const;

export type PersonalDataType = (typeof PERSONAL_DATA_TYPES)[number];
export type SecretType = (typeof SECRET_TYPES)[number];
export type DetectorType = PersonalDataType | SecretType;
export const DETECTOR_TYPES: readonly DetectorType[] = [...PERSONAL_DATA_TYPES, ...SECRET_TYPES];

export type DetectorCategory = 'personal_data' | 'secret';

/** A validated match: `[start, end)` in UTF-16 code units. Never carries the matched value. */
export interface Detection {
  readonly type: DetectorType;
  readonly start: number;
  readonly end: number;
}

export interface Detector {
  readonly type: DetectorType;
  readonly category: DetectorCategory;
  /** Appends every validated match in `text` to `out`. Must run in time linear in `text.length`. */
  scan(text: string, out: Detection[]): void;
}

export function categoryOf(type: DetectorType): DetectorCategory {
  return (SECRET_TYPES as readonly string[]).includes(type) ? 'secret' : 'personal_data';
}
