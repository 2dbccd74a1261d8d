export { RegistryError } from './registry-error.js';
export type { RegistryErrorCode } from './registry-error.js';
export { digestTag, formatImageReference, isSha256Digest, parseImageReference } from './reference.js';
export type { ImageReference } from './reference.js';
export { RegistryClient, sameDigest, sha256Digest } from './oci-client.js';
export { dockerConfigPath, loadDockerCredentials, parseDockerConfig, redactSecrets, registryHostOf } from './docker-config.js';
export type { RegistryCredential, RegistryCredentials } from './docker-config.js';
export type { FetchedManifest, RegistryClientOptions } from './oci-client.js';
export { CachingRegistryClient } from './caching-client.js';
export type { CachingRegistryClientOptions } from './caching-client.js';
export { EMPTY_JSON, EMPTY_JSON_DIGEST, MANIFEST_ACCEPT, MEDIA_TYPES, imageIndexSchema, imageManifestSchema } from './oci-types.js';
export type { Descriptor, ImageIndex, ImageManifest } from './oci-types.js';
export { pushArtifact } from './push-artifact.js';
export type { ArtifactInput, PushedArtifact } from './push-artifact.js';
export {
  ANNOTATIONS,
  MAX_ATTACHED,
  attachCosignAttestation,
  attachCosignSignature,
  attachSigstoreBundle,
  fetchAttestations,
  fetchCosignSignatures,
  fetchSigstoreBundles,
  parseManifest,
  parseSimpleSigningPayload,
  simpleSigningPayload,
} from './cosign-layout.js';
export type { FetchedAttestation, FetchedSignature, ImageLocation, SignatureLayerInput } from './cosign-layout.js';
