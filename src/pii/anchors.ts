/** Anchors more than one detector starts from (one position list each, shared). */
import type { Anchor } from './types';

/** `:` — IPv6 addresses and `key: value` secrets. */
export const COLON: Anchor = { chars: ':' };

/** `_` — GitHub (`ghp_`, `github_pat_`) and Stripe (`sk_live_`) tokens; rare in prose. */
export const UNDERSCORE: Anchor = { chars: '_' };
