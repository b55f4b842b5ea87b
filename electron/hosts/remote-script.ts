/**
 * Runs a POSIX sh script on a host (sent on stdin to `sh -s`, so the login shell's syntax never
 * matters) and splits its output into sections marked by lines "@@ferry:<name> [arg]". Scripts are
 * built from quoted values only (electron/ssh/shell.ts).
 */
import type { SshSession } from '../ssh/session.ts';

export const SECTION = '@@ferry:';

export interface ScriptOutput {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Section name (with its argument, "manifest 0.1.0") → lines. */
  sections: Map<string, string[]>;
}

export function splitSections(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of output.split('\n')) {
    if (line.startsWith(SECTION)) {
      current = [];
      map.set(line.slice(SECTION.length).trim(), current);
    } else current?.push(line);
  }
  return map;
}

export async function runScript(session: SshSession, script: string, timeoutMs = 60_000): Promise<ScriptOutput> {
  const result = await session.exec('sh -s', { stdin: script, timeoutMs });
  const stdout = result.stdout.toString('utf8');
  return { code: result.code, stdout, stderr: result.stderr.toString('utf8'), sections: splitSections(stdout) };
}

/** First non-empty line of a section, trimmed; '' when absent. */
export function firstLine(sections: Map<string, string[]>, name: string): string {
  return (sections.get(name) ?? []).find((l) => l.trim())?.trim() ?? '';
}

/** A shell snippet that prints section `name`. */
export function mark(name: string): string {
  return `echo '${SECTION}${name}'`;
}

/**
 * Shell snippet: sets $running_pid and $running_version from $home/agent.pid when that pid is alive
 * and is a Ferry agent (its command line runs .../agent/<version>/agent/agent.mjs serve); empty otherwise.
 */
export const FIND_RUNNING_AGENT = `
running_pid=''; running_version=''
if [ -f "$home/agent.pid" ]; then
  p=$(cat "$home/agent.pid" 2>/dev/null)
  case "$p" in ''|*[!0-9]*) p='' ;; esac
  if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ]; then
    script=$(tr '\\000' '\\n' < "/proc/$p/cmdline" | grep -m1 '/agent/agent\\.mjs$')
    if [ -n "$script" ] && tr '\\000' '\\n' < "/proc/$p/cmdline" | grep -qx serve; then
      running_pid=$p
      running_version=$(basename "$(dirname "$(dirname "$script")")")
    fi
  fi
fi
`;
