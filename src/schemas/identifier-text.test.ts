import { describe, expect, it } from 'vitest';
import { isVisibleText } from './identifier-text';

describe('isVisibleText', () => {
  it.each([
    ['a model id with a date', 'claude-3-5-sonnet-20241022'],
    ['Norwegian letters and spaces', 'Økonomi og lønn'],
    ['an emoji ZWJ sequence', '👩‍💻'],
    ['a flag with emoji tags', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['Persian with a ZWNJ', 'می‌خواهم'],
    ['a no-break space', 'a\u00a0b'],
  ])('accepts %s', (_what, s) => expect(isVisibleText(s)).toBe(true));

  it.each([
    ['NUL', 'a\u0000'],
    ['a tab', 'a\tb'],
    ['a newline', 'a\nb'],
    ['DEL', 'a\u007f'],
    ['a C1 control (NEL)', 'a\u0085'],
    ['an ANSI escape', '\u001b[31m'],
    ['a zero-width space', '0101001\u200b2356'],
    ['a word joiner', 'a\u2060b'],
    ['a right-to-left override', 'gpt-4\u202e'],
    ['a bidi isolate', 'a\u2066b'],
    ['a BOM', '\ufeffgpt-4'],
    ['a soft hyphen', 'a\u00adb'],
    ['a line separator', 'a\u2028b'],
    ['a paragraph separator', 'a\u2029b'],
  ])('refuses %s', (_what, s) => expect(isVisibleText(s)).toBe(false));
});
