import { resolve } from 'node:path';
import { loadConfig, type DuallaneConfig } from '../config/index.js';
import { existingDirectory } from './cli-files.js';

/**
 * duallane.yaml of the --dir a command was given. The directory must exist and hold the file:
 * without it a command would run on built-in defaults and create `.duallane/` (ledger, keys, token
 * store) wherever it was pointed, so it fails with NOT_INITIALIZED (exit 2) and creates nothing.
 * Only `duallane init` starts from nothing.
 */
export async function loadInitializedConfig(dir: string | undefined, flag = '--dir'): Promise<DuallaneConfig> {
  const root = resolve(dir ?? process.cwd());
  await existingDirectory(root, flag);
  return loadConfig(root, { requireFile: true });
}
