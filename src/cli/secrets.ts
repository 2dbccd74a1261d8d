import { InputError } from '../config/index.js';

/** Reads a secret from the environment variable a flag names; the value never reaches output. */
export function secretFromEnv(varName: string | undefined, flag: string): string | undefined {
  if (varName === undefined) return undefined;
  const v = process.env[varName];
  if (v === undefined || v === '') throw new InputError('BAD_USAGE', `${flag} names ${varName}, but it is not set`);
  return v;
}
