/**
 * Where the controller keeps its state: `--data-dir` when given, else the OS's per-user
 * app-data folder (the same one Electron's app.getPath('userData') uses for "Ferry").
 */
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Ferry');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Ferry');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Ferry');
}
