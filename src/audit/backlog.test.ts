import { describe, expect, it } from 'vitest';
import {
  BACKLOG_BUCKET_MS,
  BACKLOG_HORIZON_MS,
  backlogBucket,
  backlogGauge,
  validBacklogDelta,
} from './backlog';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 30);
const at = (msAgo: number) => backlogBucket(NOW - msAgo);

describe('backlogGauge (async_logger_queue_size)', () => {
  it('counts events sent and not yet resolved', () => {
    expect(
      backlogGauge(
        [
          { bucket: at(0), sent: 10, resolved: 4 },
          { bucket: at(5 * 60_000), sent: 3, resolved: 3 },
        ],
        NOW,
      ),
    ).toBe(6);
  });

  it('sums the shards of one bucket before clamping', () => {
    // Shard A got the sends, shard B the writes of the same minute.
    expect(
      backlogGauge(
        [
          { bucket: at(0), sent: 5, resolved: 0 },
          { bucket: at(0), sent: 0, resolved: 5 },
        ],
        NOW,
      ),
    ).toBe(0);
  });

  it('never lets a bucket that ran ahead (writes flushed before sends) hide another', () => {
    expect(
      backlogGauge(
        [
          { bucket: at(0), sent: 0, resolved: 7 },
          { bucket: at(60_000), sent: 7, resolved: 0 },
        ],
        NOW,
      ),
    ).toBe(7);
  });

  it('recovers from events lost without a trace once they are older than the horizon', () => {
    const lost = { bucket: at(BACKLOG_HORIZON_MS + BACKLOG_BUCKET_MS), sent: 900, resolved: 0 };
    expect(backlogGauge([lost], NOW - BACKLOG_HORIZON_MS)).toBe(900); // while it is recent
    expect(backlogGauge([lost, { bucket: at(0), sent: 2, resolved: 0 }], NOW)).toBe(2);
  });

  it('validates ledger deltas', () => {
    expect(validBacklogDelta({ bucket: 1, sent: 2, resolved: 0 })).toBe(true);
    expect(validBacklogDelta({ bucket: 1, sent: -2, resolved: 0 })).toBe(false);
    expect(validBacklogDelta({ bucket: 1.5, sent: 2, resolved: 0 })).toBe(false);
    expect(validBacklogDelta(null)).toBe(false);
  });
});
