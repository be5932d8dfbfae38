/**
 * The detector contract. A detector finds one kind of personal data or secret in text and
 * validates every candidate (checksums, dates, issuer ranges, entropy) before reporting it.
 *
 * The engine (`index.ts`) normalises the text once (`normalize.ts`), walks it once (`numbers.ts`)
 * to record digit groups and the anchor positions detectors asked for, and hands every detector
 * the normalised text and that index in a {@link ScanContext}. Detectors report offsets into the
 * text they were given; the engine maps them back to UTF-16 offsets of the original text, and the
 * governance pipeline converts those to Unicode code points for the public API.
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

/** A deterministic work counter: scanning loops add the characters they examined. */
export interface Work {
  steps: number;
}

/**
 * Where the engine's one pass records positions for a detector. It stops at `chars` (code units
 * below U+0100 other than digits, which start digit groups, and U+00A0–U+00BF); with `prefixes`
 * it records `i + offset` only where one of them starts there (the `J` of `eyJ`: prefix `eyJ`,
 * offset -2), checked inline char by char, so a common stop character costs little. Detectors
 * that share an anchor share the object (one position list).
 */
export interface Anchor {
  readonly chars: string;
  readonly prefixes?: readonly string[];
  /** Where the prefix starts relative to the stop character (0 or negative); default 0. */
  readonly offset?: number;
}

/**
 * A digit group: whole digit chunks joined by one kind of separator (space, `.` or `-`; mixed
 * after a `+`), e.g. `912 34 567`, `1234.56.78903`, `4111-1111-1111-1111`, `192.168.0.1`.
 */
export interface NumberGroup {
  /** Offset of the first digit (the `+` of an E.164 number is not included). */
  readonly start: number;
  /** Offset just after the last digit. */
  readonly end: number;
  /** The separator char code, 0 for a single chunk, -1 for mixed separators after `+`. */
  readonly sep: number;
  /** Length of each digit chunk. */
  readonly lens: readonly number[];
  /** The digits without separators. */
  readonly digits: string;
  /** Preceded by a `+` that is not glued to a word (`3+4` is arithmetic, `+47 …` a phone). */
  readonly plus: boolean;
  /**
   * Set on the second pass: the group is a run of whole chunks inside a longer group that no
   * detector matched as a whole (`01010012356` in `01010012356 45`).
   */
  readonly sub?: SubRun;
}

/**
 * Where a sub-run sits in the group it was cut from. Sub-runs are 8–19 digits in at most five
 * chunks; one that does not start at the group's first chunk has a chunk of five or more digits
 * (`01010012356`, `1234 56 78903`, `010100 12356`), never only short ones.
 */
export interface SubRun {
  /** Whether it starts at the group's first chunk. */
  readonly first: boolean;
  /** Length of the chunk after it in the group, 0 at the end. */
  readonly nextLen: number;
}

/** What the engine hands every detector: the one pass's index and the work counter. */
export interface ScanContext {
  /** Digit groups of 8–24 digits (and four-part dotted groups, IPv4 candidates). */
  readonly groups: readonly NumberGroup[];
  /** Offsets of two capitals directly followed by two digits at a word start: IBAN candidates. */
  readonly ibanStarts: readonly number[];
  /**
   * Offsets of the word-initial Latin-1 capitals (a capital not after a letter, digit or `_`),
   * ascending, when a registered detector asked for them and the text has no code unit beyond
   * U+00FF; else null.
   */
  readonly capitals?: readonly number[] | null;
  /**
   * With {@link capitals} asked for: offsets of the runs of exactly four digits after a space, a
   * comma or a line break (possible postnummer: `Storgata 5, 0155 Oslo`), ascending; else null.
   */
  readonly postcodes?: readonly number[] | null;
  /** Positions recorded for `anchor` (ascending); empty for an anchor no detector declared. */
  positions(anchor: Anchor): readonly number[];
  readonly work: Work;
}

export interface Detector {
  /** The types this detector reports. */
  readonly types: readonly DetectorType[];
  /** Anchors whose positions it reads from `ctx.positions`. */
  readonly anchors?: readonly Anchor[];
  /**
   * Set when the detector reads `ctx.groups`: it then runs a second time over the sub-runs of
   * digit groups that no detector matched as a whole (with no anchors and no IBAN starts).
   */
  readonly numeric?: boolean;
  /** Set when the detector reads `ctx.capitals` (the pass records them only then). */
  readonly capitals?: boolean;
  /**
   * Appends every validated match in `text` (the normalised text) to `out`, offsets into `text`.
   * Must run in time linear in `text.length` and add what it reads to `ctx.work.steps`.
   */
  scan(text: string, ctx: ScanContext, out: Detection[]): void;
}

export function categoryOf(type: DetectorType): DetectorCategory {
  return (SECRET_TYPES as readonly string[]).includes(type) ? 'secret' : 'personal_data';
}
