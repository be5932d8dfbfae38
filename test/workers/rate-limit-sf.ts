/**
 * A strict parser for the subset of RFC 8941 Structured Field Lists that the draft-10 rate-limit
 * headers use: members that are sf-string items with parameters whose values are sf-integers,
 * sf-strings or tokens. Anything else throws, so a malformed header fails the test.
 */

export interface SfItem {
  value: string;
  params: Map<string, number | string | true>;
}

export function parseSfList(input: string): SfItem[] {
  let i = 0;
  const s = input;
  const fail = (why: string): never => {
    throw new SyntaxError(`invalid structured field at ${i}: ${why} in ${JSON.stringify(s)}`);
  };
  const ows = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const sp = () => {
    while (s[i] === ' ') i++;
  };
  const str = (): string => {
    if (s[i] !== '"') fail('expected sf-string');
    i++;
    let out = '';
    for (;;) {
      const ch = s[i++];
      if (ch === undefined) fail('unterminated string');
      if (ch === '\\') {
        const next = s[i++];
        if (next !== '"' && next !== '\\') fail('bad escape');
        out += next;
      } else if (ch === '"') return out;
      else if (ch! < ' ' || ch! > '~') fail('non-printable in string');
      else out += ch;
    }
  };
  const key = (): string => {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(i));
    if (!m) fail('expected key');
    i += m![0].length;
    return m![0];
  };
  const bare = (): number | string => {
    if (s[i] === '"') return str();
    const int = /^-?[0-9]{1,15}(?![0-9.])/.exec(s.slice(i));
    if (int) {
      i += int[0].length;
      return Number(int[0]);
    }
    const token = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/.exec(s.slice(i));
    if (!token) fail('expected integer, string or token');
    i += token![0].length;
    return token![0];
  };

  const items: SfItem[] = [];
  sp();
  if (i === s.length) return items;
  for (;;) {
    const value = str();
    const params = new Map<string, number | string | true>();
    while (s[i] === ';') {
      i++;
      sp();
      const k = key();
      let v: number | string | true = true;
      if (s[i] === '=') {
        i++;
        v = bare();
      }
      params.set(k, v);
    }
    items.push({ value, params });
    ows();
    if (i === s.length) return items;
    if (s[i] !== ',') fail('expected , or end');
    i++;
    ows();
    if (i === s.length) fail('trailing comma');
  }
}
