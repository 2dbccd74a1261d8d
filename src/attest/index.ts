// Public surface of the attest module: digests, keys, statements, signing and verification.
export { AttestError, REJECTION_CODES } from './attest-error.js';
export type { AttestErrorCode } from './attest-error.js';
export { digestFile, digestsEqual, isDigest, sha256Hex } from './digest.js';
export type { DigestOptions } from './digest.js';
export { generateKeyPair, keyIdOf, loadPrivateKey, loadPublicKey, parsePublicKey } from './keys.js';
export type { GenerateKeyPairOptions } from './keys.js';
export { makeStatement, parseStatement, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPE, SLSA_PROVENANCE_V1 } from './statement.js';
export type { Statement, Subject } from './statement.js';
export { provenanceFromEnvironment, LOCAL_BUILDER_ID } from './slsa-provenance.js';
export type { ProvenanceOptions } from './slsa-provenance.js';
export { signBlob, attestStatement } from './sign.js';
export type { Signer, SerializedBundle, SignContext } from './sign.js';
export { verifyBundle, assertSubject } from './verify.js';
export type { Trust, VerifyOptions, VerifyResult, VerifiedSigner } from './verify.js';
export { matchesIdentityWithRef, normalizeRepoUri } from './provenance-checks.js';
export type { ProvenanceExpectations } from './provenance-checks.js';
export { readBundleFile, parseBundleText, toBundle, MAX_BUNDLE_BYTES } from './bundle-input.js';
export { loadTrustedRootFile } from './trusted-root.js';
