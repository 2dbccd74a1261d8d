import type { Command } from 'commander';
import { loadTrustedRootFile, type Trust } from '../attest/index.js';
import { InputError, readBoundedText } from '../config/index.js';

/** The cosign-named flags that say whom a verification trusts: one key, or a keyless identity. */
export interface TrustFlags {
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
}

export function addTrustFlags(cmd: Command, keyHelp = 'trust this SPKI PEM public key'): Command {
  return cmd
    .option('--key <pub>', keyHelp)
    .option('--certificate-identity <id>', 'keyless: exact certificate identity (SAN)')
    .option('--certificate-identity-regexp <re>', 'keyless: identity regexp (anchored at both ends)')
    .option('--certificate-oidc-issuer <url>', 'keyless: exact OIDC issuer')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: issuer regexp (anchored at both ends)')
    .option('--trusted-root <file>', 'trusted_root.json for offline verification (default: Sigstore public-good via TUF); with --key, checks only the bundle\'s tlog entries and timestamps');
}

/** The trust the flags name, or undefined when no trust flag was given. Contradictory flags are usage errors. */
export async function trustFromFlags(f: TrustFlags): Promise<Trust | undefined> {
  const keyless = [f.certificateIdentity, f.certificateIdentityRegexp, f.certificateOidcIssuer, f.certificateOidcIssuerRegexp].some((v) => v !== undefined);
  if (f.key && keyless) throw new InputError('BAD_USAGE', '--key and --certificate-* are exclusive');
  if (f.key) {
    const publicKeyPem = await readBoundedText(f.key, { maxBytes: 64 * 1024, what: 'key' });
    // With a key, a trusted root checks only the bundle's tlog entries and timestamps (as cosign's --key --trusted-root).
    return { kind: 'key', publicKeyPem, ...(f.trustedRoot ? { trustedRoot: await loadTrustedRootFile(f.trustedRoot) } : {}) };
  }
  if (!keyless) return undefined;
  if (f.certificateIdentity !== undefined && f.certificateIdentityRegexp !== undefined) throw new InputError('BAD_USAGE', '--certificate-identity and --certificate-identity-regexp are exclusive');
  if (f.certificateOidcIssuer !== undefined && f.certificateOidcIssuerRegexp !== undefined) throw new InputError('BAD_USAGE', '--certificate-oidc-issuer and --certificate-oidc-issuer-regexp are exclusive');
  return {
    kind: 'keyless',
    trustedRoot: f.trustedRoot ? await loadTrustedRootFile(f.trustedRoot) : undefined,
    identity: f.certificateIdentity,
    identityRegexp: f.certificateIdentityRegexp,
    issuer: f.certificateOidcIssuer,
    issuerRegexp: f.certificateOidcIssuerRegexp,
  };
}
