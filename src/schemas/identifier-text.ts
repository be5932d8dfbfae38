/**
 * Rules for identifier fields: strings a caller or an admin chooses that vakt stores, lists or
 * logs although they are not the checked text — `model`, `operation`, metadata values, API key
 * names, a policy's model patterns and operations (docs/api.md, "Identifier fields").
 *
 * - No control or invisible formatting characters: a newline or ANSI escape in a model name
 *   forges log lines in any tool that prints the field raw; a bidi override or zero-width space
 *   makes an audit row or an admin list show something other than what is stored.
 * - Names an admin gives (key names, policy entries) must not carry personal data, a secret or a
 *   long number by vakt's identifier rules (src/pii/identifier.ts): they are listed to every admin
 *   and kept forever. Caller values (`model`, metadata) are scrubbed instead, where they are stored
 *   (src/audit/row.ts), and never become metric labels (src/metrics/labels.ts).
 */
import type { z } from '@hono/zod-openapi';
import { isCleanIdentifier } from '../pii/identifier';

/**
 * C0 and C1 controls, DEL, U+2028/U+2029, and format characters (`\p{Cf}`: zero-width space, word
 * joiner, bidi controls, BOM, soft hyphen, …) except the joiners that text needs: ZWNJ/ZWJ
 * (Persian and Indic scripts, emoji sequences such as 👩‍💻) and emoji tag characters (flags).
 */
const INVISIBLE = /[\p{Cc}\u2028\u2029]|(?!\u200c|\u200d|[\u{e0020}-\u{e007f}])\p{Cf}/u;

export const INVISIBLE_MESSAGE =
  'must not contain control characters or invisible formatting characters (U+0000–U+001F, U+007F–U+009F, line separators, zero-width spaces, bidi controls, BOM, soft hyphen)';

export const PERSONAL_DATA_MESSAGE =
  'must not carry personal data, a secret or a number of 9 or more digits (a name, an e-mail address, a national id, a card or account number); name a role or a system instead';

/** Longer strings fail their schema's `max` anyway; they are not scanned as well. */
const MAX_SCANNED = 1024;

export function isVisibleText(s: string): boolean {
  return !INVISIBLE.test(s);
}

/** `schema` refusing control and invisible formatting characters. */
export function visibleText<T extends z.ZodString>(schema: T): T {
  return schema.refine(isVisibleText, { message: INVISIBLE_MESSAGE });
}

/** `schema` refusing invisible characters, personal data, secrets and long numbers. */
export function cleanName<T extends z.ZodString>(schema: T): T {
  return visibleText(schema).refine((s) => s.length > MAX_SCANNED || isCleanIdentifier(s), {
    message: PERSONAL_DATA_MESSAGE,
  });
}
