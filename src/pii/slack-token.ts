/**
 * Slack tokens: `xoxb-` (bot), `xoxp-` (user), `xoxa-`, `xoxr-` (refresh), `xoxs-` and app-level
 * `xapp-`, followed by dash-separated parts. A real token has at least three parts after the
 * prefix, a numeric first part (team/app id) and 20+ characters; prose like `xoxb-token` is not one.
 */
import { isAsciiAlnum, isDigit } from './text';
import { eachPosition } from './token-scan';
import type { Anchor, Detector } from './types';

const PREFIXES = ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xapp-'] as const;
const MAX = 255;

function isBodyChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 45;
}

const PREFIX: Anchor = {
  chars: 'x',
  prefixes: ['xox', 'xapp-'],
};

export const slackToken: Detector = {
  types: ['secret_slack_token'],
  anchors: [PREFIX],
  scan(text, ctx, out): void {
    eachPosition(ctx.positions(PREFIX), ctx.work, (s) => {
      const prefix = PREFIXES.find((p) => text.startsWith(p, s));
      // Not after a letter, digit or `-`: a run like `xoxb-1-xoxb-1-…` is checked once.
      const before = text.charCodeAt(s - 1);
      if (!prefix || isAsciiAlnum(before) || before === 45) return s + 1;
      const end = ((body: number): number => {
        let e = body;
        let dashes = 0;
        while (e < text.length && e - body <= MAX && isBodyChar(text.charCodeAt(e))) {
          if (text.charCodeAt(e) === 45) dashes++;
          e++;
        }
        ctx.work.steps += e - body;
        if (e - body > MAX || e - body < 20 || dashes < 2) return -1;
        if (text.charCodeAt(e - 1) === 45) return -1;
        // First part: digits (xoxb-<team id>-…) or a single digit version (xapp-1-…, xoxe.xoxp-1-…).
        let i = body;
        while (isDigit(text.charCodeAt(i))) i++;
        return i > body && text.charCodeAt(i) === 45 ? e : -1;
      })(s + prefix.length);
      if (end < 0) return s + 1;
      out.push({ type: 'secret_slack_token', start: s, end });
      return end;
    });
  },
};
