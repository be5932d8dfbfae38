import { describe, expect, it } from 'vitest';
import { scrubIdentifier } from '../pii/identifier';
import { rememberCleanRequestId, SCRUB_MEMO_ENTRIES, scrubbed } from './row';

describe('the identifier scrub memo', () => {
  it('answers like scrubIdentifier across generations of churn', () => {
    // Identifiers that repeat (models, operations) among many that do not (request ids), some
    // carrying personal data: every answer must equal a fresh scrub, before and after rotations.
    const hot = ['gpt-4', 'summarize', 'req_01010012356', 'ola.nordmann@example.no'];
    for (let i = 0; i < 3 * SCRUB_MEMO_ENTRIES; i++) {
      const x = i % 7 === 0 ? hot[i % hot.length]! : `id-${i}-4111111111111111`;
      expect(scrubbed(x)).toBe(scrubIdentifier(x));
    }
    expect(scrubbed('req_01010012356')).toBe('req_[NO_FODSELSNUMMER]');
    expect(scrubbed('ola.nordmann@example.no')).not.toContain('nordmann');
  });

  it('keeps a request id the middleware remembered as clean, and nothing else', () => {
    const id = crypto.randomUUID();
    rememberCleanRequestId(id);
    expect(scrubbed(id)).toBe(id);
    // Remembering one id says nothing about another string.
    expect(scrubbed(`${id}-01010012356`)).toBe(scrubIdentifier(`${id}-01010012356`));
    expect(scrubbed(`${id}-01010012356`)).toContain('[');
  });
});
