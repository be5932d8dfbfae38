/**
 * The audit event: the contract between the producer (the check route) and the queue consumer.
 * Versioned so the consumer can read events produced by an older deployment during a rollout.
 * It never holds input text or a detected value — lengths, a SHA-256 and counts only.
 */
import type { DetectorType } from '../pii/types';
import type { Reason } from '../governance/reasons';

export type AuditOutcome = 'allowed' | 'blocked' | 'rate_limited';

export interface AuditEventV1 {
  v: 1;
  decision_id: string;
  /** ISO 8601 UTC timestamp of the decision. */
  ts: string;
  request_id: string;
  api_key_id: string;
  model: string;
  operation: string;
  allowed: boolean;
  outcome: AuditOutcome;
  reasons: Reason[];
  /** Finding counts per type, e.g. `{ "email": 2 }`. */
  finding_counts: Partial<Record<DetectorType, number>>;
  policy_version: string;
  /** Input length in Unicode code points (all messages for chat input). */
  input_chars: number;
  /** Hex SHA-256 of the input as received (the JSON string, or the canonical chat array). */
  input_sha256: string;
  latency_ms: number;
  /** Caller metadata with any detected personal data already redacted. */
  metadata: Record<string, string | number | boolean> | null;
}

export type AuditEvent = AuditEventV1;
