/**
 * Norwegian national identity numbers (fødselsnummer and D-nummer): 11 digits DDMMYY III K1 K2,
 * validated with both mod-11 control digits and a real calendar date.
 */
import type { Detection, Detector } from './types';

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function control(digits: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += (digits[i] ?? 0) * (weights[i] ?? 0);
  const k = 11 - (sum % 11);
  return k === 11 ? 0 : k;
}

function validDate(day: number, month: number, yy: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const dim = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day > dim) return false;
  // 29 February needs a leap year in at least one century the individual number allows.
  if (month === 2 && day === 29) return [1900, 2000].some((c) => isLeap(c + yy));
  return true;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function isValidFodselsnummer(value: string): boolean {
  if (value.length !== 11) return false;
  const d: number[] = [];
  for (let i = 0; i < 11; i++) {
    const c = value.charCodeAt(i);
    if (!isDigit(c)) return false;
    d.push(c - 48);
  }
  let day = (d[0] ?? 0) * 10 + (d[1] ?? 0);
  const month = (d[2] ?? 0) * 10 + (d[3] ?? 0);
  const yy = (d[4] ?? 0) * 10 + (d[5] ?? 0);
  if (day > 40) day -= 40; // D-nummer
  if (!validDate(day, month, yy)) return false;
  return control(d, W1) === d[9] && control(d, W2) === d[10];
}

export const fodselsnummer: Detector = {
  type: 'no_fodselsnummer',
  category: 'personal_data',
  scan(text: string, out: Detection[]): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (!isDigit(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (j - i === 11 && isValidFodselsnummer(text.slice(i, j))) {
        out.push({ type: 'no_fodselsnummer', start: i, end: j });
      }
      i = j;
    }
  },
};
