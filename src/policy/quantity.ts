/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.ParseQuantity) and Go durations
 * (time.ParseDuration), the two unit systems Kyverno compares in patterns and conditions.
 * Values are kept as JS numbers: precise enough for policy comparisons (bytes up to 2^53).
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY_RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Parses a quantity string; returns undefined when it is not one. */
export function parseQuantity(s: string): number | undefined {
  const m = QUANTITY_RE.exec(s.trim());
  if (!m || s.trim() === '') return undefined;
  const num = Number(m[1]);
  if (!Number.isFinite(num)) return undefined;
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return num * BINARY[suffix]!;
  if (suffix in DECIMAL) return num * DECIMAL[suffix]!;
  if (/^[eE]/.test(suffix)) return num * 10 ** Number(suffix.slice(1));
  return undefined;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in seconds. "0" is valid; a bare number otherwise is not. */
export function parseDuration(s: string): number | undefined {
  let str = s.trim();
  if (str === '') return undefined;
  let sign = 1;
  if (str[0] === '-' || str[0] === '+') {
    if (str[0] === '-') sign = -1;
    str = str.slice(1);
  }
  if (str === '0') return 0;
  if (str === '') return undefined;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < str.length) {
    re.lastIndex = pos;
    const m = re.exec(str);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    pos = re.lastIndex;
  }
  return (sign * total) / 1e9;
}

/** Formats seconds like Go's Duration.String() (e.g. 1h30m0s, 1.5s, 0s). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  let out = '';
  if (s < 1) {
    const ns = Math.round(s * 1e9);
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${ns / 1e3}µs`;
    else out = `${ns / 1e6}ms`;
  } else {
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    const sec = Math.round(s * 1e9) / 1e9;
    if (h > 0) out += `${h}h`;
    if (h > 0 || m > 0) out += `${m}m`;
    out += `${sec}s`;
  }
  return neg ? `-${out}` : out;
}
