import { stat } from 'node:fs/promises';
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
