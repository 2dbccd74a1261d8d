import type { Command } from 'commander';
import { InputError } from '../config/index.js';
import { RegistryClient } from '../registry/index.js';

/** Flags for commands that talk to an OCI registry and verify what they read. */
export interface RegistryFlags {
  insecureRegistry?: string[];
  registryTimeout?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addRegistryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry host[:port] (repeatable; loopback/test registries only)', collect, [])
    .option('--registry-timeout <ms>', 'timeout of each registry call in milliseconds', '10000');
}

export function positiveInt(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) === 0) throw new InputError('BAD_USAGE', `${flag} must be a positive integer`);
  return Number(v);
}

export function registryClientFromFlags(f: RegistryFlags): RegistryClient {
  return new RegistryClient({ insecureRegistries: f.insecureRegistry ?? [], timeoutMs: positiveInt(f.registryTimeout, '--registry-timeout', 10_000) });
}

export { addTrustFlags, trustFromFlags, type TrustFlags } from './trust-flags.js';
