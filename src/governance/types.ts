/** Types shared by the governance pipeline and its checks. */
import type { Action, Policy } from './policy';
import type { DetectorType } from '../pii/types';
import type { Reason } from './reasons';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';
export interface ChatMessage {
  role: ChatRole;
  content: string;
}
export type CheckRequestInput = string | ChatMessage[];

/** One text to scan: the whole input, or one chat message (with its index). */
export interface InputSegment {
  text: string;
  messageIndex: number | null;
}

/** A public finding: type, action and offsets in Unicode code points — never the value. */
export interface Finding {
  type: DetectorType;
  start: number;
  end: number;
  action: Action;
  message_index?: number;
}

/** What every check sees. Built once per request. */
export interface CheckSubject {
  model: string;
  operation: string;
  segments: readonly InputSegment[];
  /** Input length in Unicode code points, all segments together. */
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
  readonly name: string;
  readonly stage: Stage;
  run(subject: CheckSubject): CheckOutcome;
}

export const PASS: CheckOutcome = Object.freeze({ reasons: [], findings: [] }) as CheckOutcome;
