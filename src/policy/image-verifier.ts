import type { AttestationCheck, Attestor, ImageVerification } from './types.js';
import type { ImageInfo } from './images.js';

/**
 * The seam through which verifyImages rules reach a registry. The policy module never talks to a
 * registry itself: the admission module plugs in a verifier that fetches signatures and attestations
 * and checks them with the attest module. Offline (`policy test`, `policy apply`) there is none, and
 * matching images yield an `error` result, as Kyverno's CLI does when the registry cannot be reached.
 */
export interface ImageVerifyRequest {
  /** The image exactly as written in the resource. */
  image: string;
  info: ImageInfo;
  attestors: Attestor[];
  attestations: AttestationCheck[];
  /** The whole verifyImages entry (type, repository, required, ...). */
  rule: ImageVerification;
  policy: string;
  ruleName: string;
}

export type ImageVerifyResult =
  | { status: 'pass'; digest?: string; message?: string }
  | { status: 'fail'; reason: string; message: string }
  | { status: 'error'; message: string };

export interface ImageVerifier {
  verifyImage(req: ImageVerifyRequest): Promise<ImageVerifyResult>;
}
