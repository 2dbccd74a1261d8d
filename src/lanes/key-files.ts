import { open, stat } from 'node:fs/promises';
import { resolveConfigPath, type DuallaneConfig, type LaneConfig } from '../config/index.js';
import type { LaneFinding } from './lane-error.js';

/**
 * A key-identity lane's private key must exist, be a regular file and be readable by its owner only
 * (mode 0600 or stricter). Keyless lanes hold no key file.
 */
export async function checkKeyFiles(config: DuallaneConfig, lane: LaneConfig): Promise<LaneFinding[]> {
  const id = lane.identity;
  switch (id.kind) {
    case 'keyless':
      return [];
    case 'key': {
      const path = resolveConfigPath(config, id.privateKey);
      try {
        const st = await stat(path);
        if (!st.isFile()) return [{ code: 'KEY_FILE_INVALID', message: `${id.privateKey} is not a regular file` }];
        const mode = st.mode & 0o777;
        if ((mode & 0o077) !== 0) return [{ code: 'KEY_FILE_MODE', message: `${id.privateKey} has mode ${mode.toString(8).padStart(4, '0')}; must be 0600 (chmod 600 ${id.privateKey})` }];
        return [];
      } catch {
        return [{ code: 'KEY_FILE_MISSING', message: `${id.privateKey} does not exist (run \`duallane init\`)` }];
      }
    }
  }
}

/**
 * Whether this process can read another lane's private key: it then holds that lane's signing
 * identity (the propose lane could sign as the executor's applied attestation, the execute lane
 * could sign proposals), whatever its environment says. Judged by actually opening each other
 * lane's key file for reading, so it is as true for root and ACLs as for plain modes; a key that is
 * absent from this machine or refused (EACCES) is out of reach. The file is never read.
 */
export async function checkOtherLaneKeys(config: DuallaneConfig, lane: LaneConfig): Promise<LaneFinding[]> {
  const findings: LaneFinding[] = [];
  for (const other of config.lanes) {
    if (other.name === lane.name || other.identity.kind !== 'key') continue;
    const path = resolveConfigPath(config, other.identity.privateKey);
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) continue;
    const isFile = await fh.stat().then((s) => s.isFile(), () => false);
    await fh.close();
    if (isFile) {
      findings.push({
        code: 'OTHER_LANE_KEY_READABLE',
        message: `this process can read lane ${other.name}'s private key ${other.identity.privateKey} and so sign as ${other.name}; keep each lane's key where only that lane's user or machine can read it`,
      });
    }
  }
  return findings;
}
