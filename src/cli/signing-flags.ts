import type { Command } from 'commander';
import type { Signer } from '../attest/index.js';
import { InputError } from '../config/index.js';
import { secretFromEnv } from './secrets.js';

export const PUBLIC_GOOD = { fulcio: 'https://fulcio.sigstore.dev', rekor: 'https://rekor.sigstore.dev' };

export interface SigningFlags {
  key?: string;
  passphraseEnv?: string;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
}

/** The flags shared by `sign` and `attest`, named as cosign names them. */
export function addSigningFlags(cmd: Command): Command {
  return cmd
    .option('--key <path>', 'sign with this private key: PKCS#8 PEM or cosign.key, a path or env://VAR (omit for keyless)')
    .option('--passphrase-env <var>', 'environment variable holding the key passphrase (cosign keys: default COSIGN_PASSWORD)')
    .option('--identity-token <token>', 'keyless: OIDC identity token (default: ambient GitHub Actions token or SIGSTORE_ID_TOKEN)')
    .option('--fulcio-url <url>', 'keyless: Fulcio URL', PUBLIC_GOOD.fulcio)
    .option('--rekor-url <url>', 'keyless: Rekor URL (transparency log)')
    .option('--tsa-url <url>', 'keyless: RFC 3161 timestamp authority URL');
}

export function signerFromFlags(f: SigningFlags): Signer {
  if (f.key) {
    if (f.identityToken) throw new InputError('BAD_USAGE', '--key and --identity-token are exclusive: sign with a key or keyless, not both');
    return {
      kind: 'key',
      keyPath: f.key,
      passphrase: secretFromEnv(f.passphraseEnv, '--passphrase-env'),
      cosignPassword: process.env.COSIGN_PASSWORD,
    };
  }
  // Keyless without any witness would produce a certificate nobody can date: default to public Rekor.
  const rekorURL = f.rekorUrl ?? (f.tsaUrl ? undefined : PUBLIC_GOOD.rekor);
  return { kind: 'keyless', identityToken: f.identityToken, fulcioURL: f.fulcioUrl ?? PUBLIC_GOOD.fulcio, rekorURL, tsaURL: f.tsaUrl };
}
