import { z } from 'zod';
import { AttestError } from './attest-error.js';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/**
 * The layout v1 kept from v0.1 (subject, predicateType, predicate). cosign attest-blob still writes
 * v0.1, and in-toto's own parsers read both, so both are read; we write v1.
 */
export const IN_TOTO_STATEMENT_V01_TYPE = 'https://in-toto.io/Statement/v0.1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface Statement {
  _type: typeof IN_TOTO_STATEMENT_TYPE | typeof IN_TOTO_STATEMENT_V01_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export function makeStatement(subjects: Subject[], predicateType: string, predicate: Record<string, unknown>): Statement {
  if (subjects.length === 0) throw new AttestError('BAD_USAGE', 'a statement needs at least one subject');
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: subjects, predicateType, predicate };
}

// The DSSE payload is attacker-controlled until its signature is checked, and even then it is only as
// well-formed as the signer made it: every field is validated before use, sizes are bounded.
const hex = /^[0-9a-f]+$/;
const statementSchema = z.object({
  _type: z.enum([IN_TOTO_STATEMENT_TYPE, IN_TOTO_STATEMENT_V01_TYPE]),
  subject: z
    .array(
      z.object({
        name: z.string().max(4096).optional().default(''),
        digest: z.record(z.string().max(64), z.string().max(256).regex(hex, 'digest must be lowercase hex')),
      }),
    )
    .min(1)
    .max(10_000),
  predicateType: z.string().min(1).max(1024),
  predicate: z.record(z.string(), z.unknown()).optional().default({}),
});

/** Parses a verified DSSE payload as an in-toto Statement v1 (or v0.1, the same layout). */
export function parseStatement(payload: Buffer): Statement {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new AttestError('PAYLOAD_INVALID', 'DSSE payload is not JSON', { cause });
  }
  const r = statementSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new AttestError('PAYLOAD_INVALID', `DSSE payload is not an in-toto Statement v1: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  return r.data as Statement;
}
