/**
 * Import hosts from an OpenSSH client config: a preview (every concrete Host alias, how Ferry
 * would define it, whether it can be added, and notes on what Ferry ignores) and adding the
 * chosen ones. Maps Host/HostName/User/Port/IdentityFile/ProxyJump; a jump host must be another
 * host of the inventory (existing or imported together). Names already in the inventory are
 * skipped, never overwritten. Reads the config file only; stores nothing but hosts.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { PlanName, type Host, type HostSpec, type SshConfigApplyResult, type SshConfigCandidate, type SshConfigNote, type SshConfigPreview, type SshConfigSource } from '../contract/console.ts';
import { expandHome } from '../ssh/auth.ts';
import { parseSshConfig, tokenizeConfigLine } from '../ssh/ssh-config.ts';
import { ControllerError } from './errors.ts';
import type { HostsService } from './hosts-service.ts';

const DEFAULT_CONFIG = '~/.ssh/config';

/** Directives the import reads; others get a note saying Ferry ignores them. */
const MAPPED = new Set(['host', 'hostname', 'user', 'port', 'identityfile', 'proxyjump', 'proxycommand', 'match', 'include']);

async function readSource(source: SshConfigSource): Promise<{ text: string; path: string | null }> {
  if (source.text !== undefined) return { text: source.text, path: null };
  const file = expandHome(source.path ?? DEFAULT_CONFIG);
  try {
    return { text: await fs.readFile(file, 'utf8'), path: file };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ControllerError('not-found', `Ferry cannot read the SSH config ${file}: ${why}. Give the path of your OpenSSH client config (usually ~/.ssh/config), or paste its text.`, [
      { path: 'path', message: `Cannot read ${file}: ${why}.` },
    ]);
  }
}

/** One note per directive Ferry does not map, listing the lines where it appears. */
function unmappedNotes(text: string): SshConfigNote[] {
  const seen = new Map<string, { directive: string; lines: number[] }>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const [keyword] = tokenizeConfigLine(raw.trim());
    if (!keyword || MAPPED.has(keyword.toLowerCase())) return;
    const key = keyword.toLowerCase();
    const entry = seen.get(key) ?? { directive: keyword, lines: [] };
    entry.lines.push(i + 1);
    seen.set(key, entry);
  });
  return [...seen.values()].map((e) => ({
    line: e.lines[0] ?? 0,
    directive: e.directive,
    message: `Ferry does not use ${e.directive} (line${e.lines.length > 1 ? 's' : ''} ${e.lines.join(', ')}); it is ignored for the imported hosts.`,
    host: null,
  }));
}

function candidates(text: string, inventory: Host[]): { hosts: SshConfigCandidate[]; notes: SshConfigNote[] } {
  const parsed = parseSshConfig(text, { homeDir: os.homedir(), defaultUser: 'root' });
  const aliases = new Set(parsed.hosts.map((h) => h.name));
  const existing = new Set(inventory.map((h) => h.name));
  const hosts = parsed.hosts.map((h): SshConfigCandidate => {
    const notes: string[] = [];
    const nameOk = PlanName.safeParse(h.name).success;
    if (!nameOk) notes.push(`"${h.name}" is not a valid Ferry host name (letters, digits, dot, dash, underscore). Add it by hand under another name.`);
    let jumpHost: string | null = null;
    if (h.jumpHost) {
      if (aliases.has(h.jumpHost) || existing.has(h.jumpHost)) jumpHost = h.jumpHost;
      else notes.push(`Its jump host "${h.jumpHost}" is not a host of this file or the inventory. Add the jump host, then set it on this host.`);
    }
    for (const n of parsed.ignored) if (n.host === h.name) notes.push(`${n.directive}: ${n.message}`);
    const exists = existing.has(h.name);
    if (exists) notes.push('A host with this name is already in the inventory; it will be skipped.');
    return {
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      auth: h.identityFile ? { kind: 'key', keyFile: h.identityFile } : { kind: 'agent' },
      jumpHost,
      line: h.line,
      importable: nameOk && !exists && (h.jumpHost === undefined || jumpHost !== null),
      exists,
      notes,
    };
  });
  const notes = [...parsed.ignored.filter((n) => !n.host).map((n) => ({ ...n, host: null })), ...unmappedNotes(text)];
  return { hosts, notes };
}

export async function previewSshConfig(source: SshConfigSource, hostsService: HostsService): Promise<SshConfigPreview> {
  const { text, path } = await readSource(source);
  const { hosts, notes } = candidates(text, await hostsService.list());
  return { path, hosts, notes };
}

/** Adds the chosen hosts, jump hosts first; skips (with the reason) those that cannot be added. */
export async function applySshConfig(source: SshConfigSource & { names: string[] }, hostsService: HostsService): Promise<SshConfigApplyResult> {
  const { text } = await readSource(source.text !== undefined ? { text: source.text } : source.path !== undefined ? { path: source.path } : {});
  const { hosts } = candidates(text, await hostsService.list());
  const chosen = new Set(source.names);
  const result: SshConfigApplyResult = { added: [], skipped: [] };
  for (const name of chosen) if (!hosts.some((h) => h.name === name)) result.skipped.push({ name, reason: 'Not a host of this SSH config.' });
  const pending = hosts.filter((h) => chosen.has(h.name));
  const added = new Set((await hostsService.list()).map((h) => h.name));
  // Jump hosts go in before the hosts behind them; a host whose jump host never arrives is skipped.
  let progress = true;
  while (pending.length > 0 && progress) {
    progress = false;
    for (const c of [...pending]) {
      if (!c.importable) {
        result.skipped.push({ name: c.name, reason: c.notes[0] ?? 'It cannot be imported.' });
      } else if (c.jumpHost && !added.has(c.jumpHost)) {
        continue;
      } else {
        const spec: HostSpec = { name: c.name, address: c.address, port: c.port, user: c.user, auth: c.auth, jumpHost: c.jumpHost, dataAddress: null };
        try {
          await hostsService.add(spec);
          added.add(c.name);
          result.added.push(c.name);
        } catch (err) {
          result.skipped.push({ name: c.name, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      pending.splice(pending.indexOf(c), 1);
      progress = true;
    }
  }
  for (const c of pending) result.skipped.push({ name: c.name, reason: `Its jump host "${c.jumpHost}" was not imported. Choose it too, or add it first.` });
  return result;
}
