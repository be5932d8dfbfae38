/** Types shared by the governance pipeline and its checks. */
import type { Action, Policy } from './policy';
import type { DetectorType } from '../pii/types';
import type { Reason } from './reasons';

import type { CheckInput, CheckOutput } from '../schemas/content';
import type { Segment } from './content';

/** A checked value as the client sent it: an `input` or an `output` (schemas/content.ts). */
export type CheckRequestInput = CheckInput | CheckOutput;

/** Whether a check is of a prompt (`input`) or of a model's answer (`output`). */
export type Direction = 'input' | 'output';

/** A public finding: type, action and offsets in Unicode code points — never the value. */
export interface Finding {
  type: DetectorType;
  start: number;
  end: number;
  action: Action;
  /** JSON pointer of the text inside the checked value (`""` for a plain string). */
  path: string;
  message_index?: number;
}

/** What every check sees. Built once per request. */
export interface CheckSubject {
  model: string;
  operation: string;
  segments: readonly Segment[];
  /** Checked text length in Unicode code points, all segments together. */
  inputChars: number;
  policy: Policy;
  knownModels: readonly string[];
}

export interface CheckOutcome {
  reasons: Reason[];
  findings: Finding[];
}

export type Stage = 'validation' | 'scoring';

/**
 * A governance check. Checks are pure and synchronous: everything they need is in the subject,
 * so a check is unit-tested without a request. A new check is one file plus one registry line.
 */
export interface Check {
  readonly stage: Stage;
  run(subject: CheckSubject): CheckOutcome;
}

export const PASS: CheckOutcome = Object.freeze({ reasons: [], findings: [] }) as CheckOutcome;
