export { AttestError } from './attest-error.js';
export type { AttestErrorCode } from './attest-error.js';
export { digestFile, digestsEqual, isDigest, sha256Hex } from './digest.js';
export type { DigestOptions } from './digest.js';
