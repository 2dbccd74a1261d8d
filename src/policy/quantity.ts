import { Decimal } from 'decimal.js';

/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.ParseQuantity) and Go durations
 * (time.ParseDuration), the two unit systems Kyverno compares in patterns and conditions.
 *
 * Values are exact decimals (Kubernetes keeps quantities as inf.Dec, Go durations as integer
 * nanoseconds): as JS floats `2300m` would be 2.3000000000000003 and fail `<=2.3`. Both parsers
 * scan by hand in one pass: the strings come from admitted objects, and a regex like
 * `\d+\.?\d*` backtracks quadratically on a long run of digits.
 */
export const Dec = Decimal.clone({ precision: 100, rounding: Decimal.ROUND_HALF_EVEN, toExpPos: 1000, toExpNeg: -1000 });
export type Dec = Decimal;

const BINARY: Record<string, Decimal> = { Ki: new Dec(2).pow(10), Mi: new Dec(2).pow(20), Gi: new Dec(2).pow(30), Ti: new Dec(2).pow(40), Pi: new Dec(2).pow(50), Ei: new Dec(2).pow(60) };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Length of the unsigned decimal number (`1`, `1.`, `.5`, `1.5`) at s[from], or 0 when there is none. */
function numberLength(s: string, from: number): number {
  let i = from;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const intDigits = i - from;
  if (s[i] === '.') {
    const dot = i++;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (intDigits === 0 && i === dot + 1) return 0;
  }
  return intDigits === 0 && i === from ? 0 : i - from;
}

/** Parses a quantity string exactly; undefined when it is not one. */
export function parseQuantity(s: string): Decimal | undefined {
  const str = s.trim();
  let i = 0;
  const negative = str[0] === '-';
  if (str[0] === '+' || str[0] === '-') i++;
  const n = numberLength(str, i);
  if (n === 0) return undefined;
  let value = new Dec(str.slice(i, i + n));
  if (negative) value = value.neg();
  const suffix = str.slice(i + n);
  const binary = BINARY[suffix];
  if (binary) return value.times(binary);
  const exp = Object.prototype.hasOwnProperty.call(DECIMAL, suffix) ? DECIMAL[suffix]! : decimalExponent(suffix);
  if (exp === undefined) return undefined;
  const out = value.times(new Dec(10).pow(exp));
  return out.isFinite() ? out : undefined;
}

/** `e3`, `E-6`, `e+2`: Kubernetes' decimalExponent suffix (an int32 exponent). */
function decimalExponent(suffix: string): number | undefined {
  if (suffix[0] !== 'e' && suffix[0] !== 'E') return undefined;
  let i = 1;
  if (suffix[i] === '+' || suffix[i] === '-') i++;
  if (i === suffix.length || suffix.length - i > 9) return undefined;
  for (let j = i; j < suffix.length; j++) if (!isDigit(suffix.charCodeAt(j))) return undefined;
  return Number(suffix.slice(1));
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const MAX_DURATION_NS = new Dec(2).pow(63).minus(1);

/**
 * Go's time.ParseDuration, in seconds (an exact decimal of whole nanoseconds). "0" is valid; a bare
 * number otherwise is not; a total past Go's int64 nanoseconds (about 292 years) is not a duration.
 */
export function parseDuration(s: string): Decimal | undefined {
  let str = s.trim();
  let negative = false;
  if (str[0] === '-' || str[0] === '+') {
    negative = str[0] === '-';
    str = str.slice(1);
  }
  if (str === '0') return new Dec(0);
  if (str === '') return undefined;
  let ns = new Dec(0);
  let pos = 0;
  while (pos < str.length) {
    const n = numberLength(str, pos);
    if (n === 0) return undefined;
    const num = new Dec(str.slice(pos, pos + n));
    pos += n;
    let end = pos;
    while (end < str.length && str[end] !== '.' && !isDigit(str.charCodeAt(end))) end++;
    const unit = UNIT_NS[str.slice(pos, end)];
    if (unit === undefined) return undefined;
    pos = end;
    // Go adds the fraction's nanoseconds truncated; whole units are exact.
    ns = ns.plus(num.times(unit).toDecimalPlaces(0, Decimal.ROUND_DOWN));
    if (ns.gt(MAX_DURATION_NS.plus(negative ? 1 : 0))) return undefined;
  }
  const seconds = ns.div(1e9);
  return negative ? seconds.neg() : seconds;
}

/** -1, 0 or 1: a against b, exactly. */
export function compareExact(a: Decimal.Value, b: Decimal.Value): -1 | 0 | 1 {
  return new Dec(a).cmp(new Dec(b)) as -1 | 0 | 1;
}

/** Formats seconds like Go's Duration.String() (e.g. 1h30m0s, 1.5s, 0s); sub-nanosecond parts are truncated. */
export function formatDuration(seconds: Decimal.Value): string {
  const total = BigInt(new Dec(seconds).times(1e9).toDecimalPlaces(0, Decimal.ROUND_DOWN).toFixed(0));
  if (total === 0n) return '0s';
  const neg = total < 0n;
  const u = neg ? -total : total;
  let out: string;
  if (u < 1_000_000_000n) {
    out = u < 1000n ? `${u}ns` : u < 1_000_000n ? `${fraction(u, 1000n, 3)}µs` : `${fraction(u, 1_000_000n, 6)}ms`;
  } else {
    const h = u / 3_600_000_000_000n;
    const m = (u / 60_000_000_000n) % 60n;
    const s = u % 60_000_000_000n;
    out = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${fraction(s, 1_000_000_000n, 9)}s`;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: bigint, unit: bigint, digits: number): string {
  const whole = v / unit;
  const rest = v % unit;
  if (rest === 0n) return `${whole}`;
  let frac = rest.toString().padStart(digits, '0');
  while (frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${whole}.${frac}`;
}
