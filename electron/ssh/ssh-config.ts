/**
 * Reads OpenSSH client config text (~/.ssh/config) for "import hosts": each concrete Host alias
 * becomes { name, address, port, user, identityFile?, jumpHost? } the way `ssh alias` would resolve
 * it (first value wins; wildcard blocks such as `Host *` apply as defaults to the aliases they match
 * but are not hosts themselves). Include, Match and unsupported proxy settings are reported, never
 * silently guessed at. Pure: text in, records out; reads no files.
 */
import { globMatch } from './known-hosts.ts';

export interface SshConfigHost {
  /** The Host alias. */
  name: string;
  /** HostName, or the alias itself. */
  address: string;
  port: number;
  user: string;
  /** First IdentityFile, with ~ and %d/%u/%h/%r/%% expanded. */
  identityFile?: string;
  /** ProxyJump (one hop), as written: an alias of this file or [user@]host[:port]. */
  jumpHost?: string;
  /** Line of the Host line that first names the alias. */
  line: number;
}

export interface SshConfigNote {
  line: number;
  directive: string;
  /** What Ferry did and why. */
  message: string;
  /** The alias it is about, if any. */
  host?: string;
}

export interface SshConfigParseResult {
  hosts: SshConfigHost[];
  /** Directives Ferry ignored (Include, Match, multi-hop ProxyJump, ProxyCommand it cannot map). */
  ignored: SshConfigNote[];
}

export interface SshConfigParseOptions {
  /** For "~" and %d (the caller passes os.homedir()). */
  homeDir: string;
  /** User when the config names none (OpenSSH uses the local user name). */
  defaultUser: string;
}

interface Directive {
  key: string;
  args: string[];
  line: number;
}

interface Block {
  line: number;
  /** null for the global section before any Host line, and for Match blocks (never applied). */
  patterns: string[] | null;
  isMatch: boolean;
  directives: Directive[];
}

/** Splits a config line into words: `Key value`, `Key=value`, `Key = value`, double quotes, and `#` starting a comment word. */
export function tokenizeConfigLine(line: string): string[] {
  const head = /^\s*([^\s=]+)\s*(?:=\s*)?(.*)$/.exec(line);
  if (!head?.[1] || head[1].startsWith('#')) return [];
  const words = [head[1]];
  const rest = head[2] ?? '';
  let current = '';
  let inWord = false;
  let quoted = false;
  for (const c of rest) {
    if (quoted) {
      if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') {
      quoted = true;
      inWord = true;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

function parseBlocks(text: string, ignored: SshConfigNote[]): Block[] {
  const blocks: Block[] = [{ line: 0, patterns: null, isMatch: false, directives: [] }];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const words = tokenizeConfigLine(raw.trim());
    const [keyword, ...args] = words;
    if (!keyword) return;
    const key = keyword.toLowerCase();
    if (key === 'host') {
      blocks.push({ line, patterns: args, isMatch: false, directives: [] });
    } else if (key === 'match') {
      blocks.push({ line, patterns: null, isMatch: true, directives: [] });
      ignored.push({ line, directive: `Match ${args.join(' ')}`, message: 'Match blocks are not imported; their settings are ignored. Check hosts they would change.' });
    } else if (key === 'include') {
      ignored.push({ line, directive: `Include ${args.join(' ')}`, message: 'Included files are not read. Import them separately if they define hosts.' });
    } else {
      blocks[blocks.length - 1]?.directives.push({ key, args, line });
    }
  });
  return blocks;
}

function blockApplies(block: Block, alias: string): boolean {
  if (block.isMatch) return false;
  if (block.patterns === null) return true;
  let matched = false;
  for (const pattern of block.patterns) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), alias)) return false;
    } else if (globMatch(pattern, alias)) matched = true;
  }
  return matched;
}

function isConcreteAlias(pattern: string): boolean {
  return !pattern.startsWith('!') && !/[*?]/.test(pattern);
}

function expandTokens(value: string, vars: { home: string; user: string; host: string; alias: string }): string {
  let out = value.startsWith('~/') || value === '~' ? vars.home + value.slice(1) : value;
  out = out.replace(/%([%dunhr])/g, (_m, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return vars.home;
      case 'u':
        return vars.user;
      case 'h':
        return vars.host;
      case 'n':
        return vars.alias;
      default:
        return vars.user; // %r: the remote user
    }
  });
  return out;
}

/** "ssh -W %h:%p bastion" / "ssh bastion -W %h:%p" → "bastion" (the only ProxyCommand Ferry can map). */
function jumpFromProxyCommand(args: string[]): string | null {
  if (args[0] !== 'ssh') return null;
  const rest = args.slice(1);
  const w = rest.indexOf('-W');
  if (w < 0 || rest[w + 1] !== '%h:%p') return null;
  const others = rest.filter((_a, i) => i !== w && i !== w + 1);
  return others.length === 1 && !others[0]?.startsWith('-') ? (others[0] ?? null) : null;
}

export function parseSshConfig(text: string, options: SshConfigParseOptions): SshConfigParseResult {
  const ignored: SshConfigNote[] = [];
  const blocks = parseBlocks(text, ignored);
  const aliases: Array<{ name: string; line: number }> = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    for (const pattern of block.patterns ?? []) {
      if (isConcreteAlias(pattern) && !seen.has(pattern)) {
        seen.add(pattern);
        aliases.push({ name: pattern, line: block.line });
      }
    }
  }

  const hosts: SshConfigHost[] = [];
  for (const alias of aliases) {
    const values = new Map<string, Directive>();
    for (const block of blocks) {
      if (!blockApplies(block, alias.name)) continue;
      for (const d of block.directives) if (!values.has(d.key) && d.args.length > 0) values.set(d.key, d);
    }
    const user = values.get('user')?.args[0] ?? options.defaultUser;
    const hostNameRaw = values.get('hostname')?.args[0];
    const vars = { home: options.homeDir, user, host: alias.name, alias: alias.name };
    const address = hostNameRaw ? expandTokens(hostNameRaw, vars) : alias.name;
    vars.host = address;
    const portText = values.get('port')?.args[0];
    const port = portText && /^\d+$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535 ? Number(portText) : 22;
    if (portText && port === 22 && portText !== '22') {
      ignored.push({ line: values.get('port')?.line ?? alias.line, directive: `Port ${portText}`, message: 'Not a port number; using 22.', host: alias.name });
    }
    const host: SshConfigHost = { name: alias.name, address, port, user, line: alias.line };
    const identity = values.get('identityfile')?.args[0];
    if (identity && identity.toLowerCase() !== 'none') host.identityFile = expandTokens(identity, vars);

    const proxyJump = values.get('proxyjump');
    const proxyCommand = values.get('proxycommand');
    if (proxyJump && proxyJump.args[0]?.toLowerCase() !== 'none') {
      const hops = proxyJump.args.join('').split(',').filter(Boolean);
      if (hops.length === 1 && hops[0]) host.jumpHost = hops[0].replace(/^ssh:\/\//, '');
      else ignored.push({ line: proxyJump.line, directive: `ProxyJump ${proxyJump.args.join(' ')}`, message: 'Ferry supports one jump host; this chain has several. Set the jump host by hand.', host: alias.name });
    } else if (proxyCommand && proxyCommand.args[0]?.toLowerCase() !== 'none') {
      const jump = jumpFromProxyCommand(proxyCommand.args);
      if (jump) host.jumpHost = jump;
      else ignored.push({ line: proxyCommand.line, directive: `ProxyCommand ${proxyCommand.args.join(' ')}`, message: 'Ferry cannot run proxy commands; set a jump host by hand if one is needed.', host: alias.name });
    }
    hosts.push(host);
  }
  return { hosts, ignored };
}
