/**
 * Per-isolate counters of what the Sentry reporter did. They back the console lines operators
 * see and let tests prove behaviour (e.g. that no Toucan is constructed without a DSN). They are
 * deliberately not Prometheus metrics: the metric catalogue is fixed by contract.
 */

export interface SentryStats {
  /** Toucan clients constructed (one per report, only with SENTRY_DSN set). */
  constructed: number;
  /** Envelopes Sentry accepted (2xx). */
  sent: number;
  /** Envelopes that could not be delivered: network error, timeout or a non-2xx answer. */
  failed: number;
  /** Reports not sent because SENTRY_SAMPLE_RATE sampled them out. */
  sampledOut: number;
  /** Reports over the per-invocation cap (a flood from one request or batch). */
  suppressed: number;
  /** Reports abandoned before sending (invalid DSN, or an error inside the reporter itself). */
  abandoned: number;
}

const stats: SentryStats = {
  constructed: 0,
  sent: 0,
  failed: 0,
  sampledOut: 0,
  suppressed: 0,
  abandoned: 0,
};

export function countSentry(kind: keyof SentryStats): void {
  stats[kind]++;
}

/** A snapshot of this isolate's counters. */
export function sentryStats(): Readonly<SentryStats> {
  return { ...stats };
}
