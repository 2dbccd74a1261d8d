import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadTrustedRootFile, type Trust } from '../attest/index.js';
import { InputError } from '../config/index.js';
import { RegistryClient } from '../registry/index.js';

/** Flags for commands that talk to an OCI registry and verify what they read. */
export interface RegistryFlags {
  insecureRegistry?: string[];
  registryTimeout?: string;
}

export interface TrustFlags {
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry host[:port] (repeatable; loopback/test registries only)', collect, [])
    .option('--registry-timeout <ms>', 'timeout of each registry call in milliseconds', '10000');
}

export function addTrustFlags(cmd: Command, keyHelp = 'trust this SPKI PEM public key'): Command {
  return cmd
    .option('--key <pub>', keyHelp)
    .option('--certificate-identity <id>', 'keyless: expected certificate identity (SAN)')
    .option('--certificate-identity-regexp <re>', 'keyless: expected certificate identity, as a regular expression')
    .option('--certificate-oidc-issuer <url>', 'keyless: expected OIDC issuer')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: expected OIDC issuer, as a regular expression')
    .option('--trusted-root <file>', 'trusted_root.json for offline verification (default: Sigstore public-good via TUF)');
}

export function positiveInt(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) === 0) throw new InputError('BAD_USAGE', `${flag} must be a positive integer`);
  return Number(v);
}

export function registryClientFromFlags(f: RegistryFlags): RegistryClient {
  return new RegistryClient({ insecureRegistries: f.insecureRegistry ?? [], timeoutMs: positiveInt(f.registryTimeout, '--registry-timeout', 10_000) });
}

/** The trust a verification needs, or undefined when no trust flag was given. */
export async function trustFromFlags(f: TrustFlags): Promise<Trust | undefined> {
  const keyless = [f.certificateIdentity, f.certificateIdentityRegexp, f.certificateOidcIssuer, f.certificateOidcIssuerRegexp].some((v) => v !== undefined);
  if (f.key && keyless) throw new InputError('BAD_USAGE', '--key and --certificate-* are exclusive');
  if (f.key) {
    try {
      return { kind: 'key', publicKeyPem: await readFile(f.key, 'utf8') };
    } catch (cause) {
      throw new InputError('INPUT_UNREADABLE', `cannot read key ${f.key}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
    }
  }
  if (!keyless) return undefined;
  return {
    kind: 'keyless',
    trustedRoot: f.trustedRoot ? await loadTrustedRootFile(f.trustedRoot) : undefined,
    identity: f.certificateIdentity,
    identityRegexp: f.certificateIdentityRegexp,
    issuer: f.certificateOidcIssuer,
    issuerRegexp: f.certificateOidcIssuerRegexp,
  };
}
