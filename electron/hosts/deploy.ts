/**
 * deployAgent(): installs an agent version on a host over SSH. Detects the host's arch, compares the
 * local files' SHA-256 with the host's MANIFESTs, and transfers only what is missing or different:
 * files identical to an installed version are hard-linked on the host, the rest are uploaded
 * gzip-compressed (the faster way on real links; see ssh-session tests). Everything is assembled in
 * a temp directory, checked with sha256sum, and renamed into place with its MANIFEST, so a version
 * directory is either complete and verified or absent. Never touches the agent's own data in its
 * home, and never removes the version a running agent uses.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { SshSession } from '../ssh/session.ts';
import { shPath, shQuote } from '../ssh/shell.ts';
import { agentArch, BUNDLE_PATH, checkVersionLabel, DEFAULT_AGENT_HOME, formatManifest, nativeAddonPath, parseManifest, RUNTIME_PATH, type AgentArch, type Manifest, type ManifestEntry } from './agent-layout.ts';
import { AgentError } from './errors.ts';
import { hashLocalFile } from './local-files.ts';
import { FIND_RUNNING_AGENT, firstLine, mark, runScript, SECTION } from './remote-script.ts';

export interface AgentLocalFiles {
  /** Local path of the runtime's bin/node per arch (dist/runtime/linux-<arch>/bin/node). */
  runtimeByArch: Partial<Record<AgentArch, string>>;
  /** dist/agent/agent.mjs */
  bundle: string;
  /** dist/native/linux-<arch>/ferry_fs.node, when built. */
  nativeAddonByArch?: Partial<Record<AgentArch, string>>;
  /** What the version label starts with: the app's version (the console's); default the agent's own. */
  versionBase?: string;
}

export interface DeployOptions {
  version: string;
  localFiles: AgentLocalFiles;
  /** Agent home on the host (default ~/.ferry). */
  home?: string;
  onProgress?: (event: { file: string; step: 'hashing' | 'uploading' | 'linking' | 'verifying'; bytes?: number }) => void;
}

export interface DeployResult {
  version: string;
  arch: AgentArch;
  /** Absolute agent home on the host. */
  home: string;
  /** Absolute version directory on the host. */
  dir: string;
  /** Paths (inside the version dir) sent over the network. */
  uploaded: string[];
  /** Paths copied on the host from another installed version (no network). */
  linked: string[];
  /** True when the version was already installed and intact: nothing changed. */
  alreadyInstalled: boolean;
  /** Versions removed (all but this one, the current one and a running one). */
  removedVersions: string[];
  /** Bytes this deployment sent over the SSH transport. */
  bytesSent: number;
  ms: number;
}

interface Planned extends ManifestEntry {
  local: string;
}

interface RemoteVersion {
  manifest: Manifest;
  /** path → { size, mode } as found on disk. */
  files: Map<string, { size: number; mode: number }>;
}

function stateScript(home: string, version: string): string {
  return `
home=${shPath(home)}
root="$home/agent"
v=${shQuote(version)}
${mark('machine')}; uname -m
mkdir -p "$root" || exit 3
${mark('home')}; (cd "$home" && pwd -P)
${mark('current')}; readlink "$root/current" 2>/dev/null
${FIND_RUNNING_AGENT}
${mark('running')}; echo "$running_version"
for d in "$root"/*/; do
  n=$(basename "$d")
  [ "$n" = current ] && continue
  [ -f "$d/MANIFEST" ] || continue
  echo "${SECTION}manifest $n"; cat "$d/MANIFEST"
  echo "${SECTION}files $n"; (cd "$d" && find . -type f ! -name MANIFEST -exec stat -c '%s %a %n' {} +)
done
# Files of the wanted version that do not match its own MANIFEST (damaged since it was installed).
if [ -f "$root/$v/MANIFEST" ]; then
  ${mark('damaged')}
  (cd "$root/$v" && tail -n +2 MANIFEST | awk '{ print $1 "  " $4 }' | sha256sum -c - 2>/dev/null | grep -v ': OK$' | sed 's/: [^:]*$//')
fi
${mark('end')}
`;
}

function readVersions(sections: Map<string, string[]>): Map<string, RemoteVersion> {
  const versions = new Map<string, RemoteVersion>();
  for (const [name, lines] of sections) {
    if (!name.startsWith('manifest ')) continue;
    const version = name.slice('manifest '.length);
    const manifest = parseManifest(lines.join('\n'));
    if (!manifest) continue;
    const files = new Map<string, { size: number; mode: number }>();
    for (const line of sections.get(`files ${version}`) ?? []) {
      const m = /^(\d+) ([0-7]+) \.\/(.+)$/.exec(line);
      if (m) files.set(m[3] as string, { size: Number(m[1]), mode: parseInt(m[2] as string, 8) });
    }
    versions.set(version, { manifest, files });
  }
  return versions;
}

/** Whether an installed version holds this exact file, intact as far as size and mode show. */
function holds(version: RemoteVersion, entry: ManifestEntry, checkMode: boolean): boolean {
  const m = version.manifest.entries.find((e) => e.path === entry.path && e.sha256 === entry.sha256) ?? version.manifest.entries.find((e) => e.sha256 === entry.sha256);
  if (!m) return false;
  const onDisk = version.files.get(m.path);
  return onDisk !== undefined && onDisk.size === entry.size && (!checkMode || onDisk.mode === entry.mode);
}

function sourcePathIn(version: RemoteVersion, entry: ManifestEntry): string {
  return (version.manifest.entries.find((e) => e.path === entry.path && e.sha256 === entry.sha256) ?? version.manifest.entries.find((e) => e.sha256 === entry.sha256))!.path;
}

export async function deployAgent(session: SshSession, options: DeployOptions): Promise<DeployResult> {
  const started = Date.now();
  const sentBefore = session.bytes.sent;
  const { version } = options;
  checkVersionLabel(version);
  const homeSpec = options.home ?? DEFAULT_AGENT_HOME;

  const state = await runScript(session, stateScript(homeSpec, version));
  if (state.code !== 0 || !state.sections.has('end')) {
    throw new AgentError('deploy-failed', `Ferry could not prepare ${homeSpec}/agent on ${session.label} (${state.stderr.trim() || `exit ${state.code}`}). Check that the user can write its home directory.`);
  }
  const machine = firstLine(state.sections, 'machine');
  const arch = agentArch(machine);
  if (!arch) {
    throw new AgentError('unsupported-arch', `${session.label} is a ${machine || 'unknown'} machine; the Ferry agent runs on x86_64 and aarch64 Linux only. Use an x86_64 or arm64 instance for migration hosts.`);
  }
  const home = firstLine(state.sections, 'home');
  const root = `${home}/agent`;
  const runtime = options.localFiles.runtimeByArch[arch];
  if (!runtime) {
    throw new AgentError('local-file-missing', `Ferry has no agent runtime for ${arch} hosts (${session.label} is ${machine}). Fetch it with "node build/fetch-runtime.mjs --all" and try again.`);
  }

  const wanted: Array<{ path: string; local: string; mode: number }> = [
    { path: RUNTIME_PATH, local: runtime, mode: 0o755 },
    { path: BUNDLE_PATH, local: options.localFiles.bundle, mode: 0o644 },
  ];
  const addon = options.localFiles.nativeAddonByArch?.[arch];
  if (addon) {
    const name = path.basename(addon);
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new AgentError('local-file-missing', `The native addon file name "${name}" has characters Ferry does not deploy; rename it.`);
    wanted.push({ path: nativeAddonPath(arch, name), local: addon, mode: 0o644 });
  }
  const planned: Planned[] = [];
  for (const w of wanted) {
    options.onProgress?.({ file: w.path, step: 'hashing' });
    const info = await hashLocalFile(w.local);
    planned.push({ path: w.path, local: w.local, mode: w.mode, sha256: info.sha256, size: info.size });
  }

  const versions = readVersions(state.sections);
  const damaged = new Set((state.sections.get('damaged') ?? []).map((l) => l.trim()).filter(Boolean));
  const target = versions.get(version);
  if (target && damaged.size > 0) {
    // Damaged files are neither intact nor a source to link from.
    for (const file of damaged) target.files.delete(file);
  }
  const current = firstLine(state.sections, 'current');
  const running = firstLine(state.sections, 'running');
  const installed = versions.get(version);
  const intact =
    installed !== undefined &&
    installed.manifest.arch === arch &&
    installed.manifest.entries.length === planned.length &&
    planned.every((p) => installed.manifest.entries.some((e) => e.path === p.path && e.sha256 === p.sha256 && e.size === p.size && e.mode === p.mode) && holds(installed, p, true));

  const result: DeployResult = { version, arch, home, dir: `${root}/${version}`, uploaded: [], linked: [], alreadyInstalled: intact, removedVersions: [], bytesSent: 0, ms: 0 };
  if (!intact) {
    const context = { session, options, root, home, version, arch, planned, versions };
    const first = await install(context, new Set());
    // A linked file that fails its checksum (an installed copy was damaged): upload those instead.
    const done = first.checksumMismatch.length > 0 ? await install(context, new Set(first.checksumMismatch)) : first;
    if (done.checksumMismatch.length > 0) {
      throw new AgentError('deploy-failed', `The agent files uploaded to ${session.label} do not match their checksums. Check the host's disk and memory, and the local build (node build/build.mjs).`);
    }
    result.uploaded = done.uploaded;
    result.linked = done.linked;
  }

  // Keep this version, the current one and a running one; remove other versions and stale temp dirs.
  const keep = new Set([version, current, running].filter(Boolean));
  const remove = [...versions.keys()].filter((v) => !keep.has(v));
  const prune = await runScript(
    session,
    `cd ${shQuote(root)} || exit 0
${remove.map((v) => `rm -rf ${shQuote(v)} && echo ${shQuote(v)}`).join('\n')}
find . -maxdepth 1 \\( -name '.tmp-*' -o -name '.old-*' \\) -mmin +60 -exec rm -rf {} + 2>/dev/null
exit 0
`,
  );
  result.removedVersions = prune.stdout.split('\n').filter((l) => remove.includes(l.trim()));
  result.bytesSent = session.bytes.sent - sentBefore;
  result.ms = Date.now() - started;
  return result;
}

interface InstallContext {
  session: SshSession;
  options: DeployOptions;
  root: string;
  home: string;
  version: string;
  arch: AgentArch;
  planned: Planned[];
  versions: Map<string, RemoteVersion>;
}

/** Assembles the version in a temp dir (links and uploads), verifies it and renames it into place. */
async function install(ctx: InstallContext, mustUpload: Set<string>): Promise<{ uploaded: string[]; linked: string[]; checksumMismatch: string[] }> {
  const { session, options, root, home, version, arch, planned, versions } = ctx;
  const tag = randomBytes(4).toString('hex');
  const tmp = `${root}/.tmp-${version}-${tag}`;
  const uploaded: string[] = [];
  const linked: string[] = [];
  // Files another installed version already holds are linked on the host; the rest are uploaded.
  const links: string[] = [];
  const uploads: Planned[] = [];
  for (const p of planned) {
    const source = !mustUpload.has(p.path) ? [...versions.entries()].find(([, v]) => v.manifest.arch === arch && holds(v, p, false)) : undefined;
    if (source) {
      const from = `${root}/${source[0]}/${sourcePathIn(source[1], p)}`;
      const to = `${tmp}/${p.path}`;
      links.push(`ln ${shQuote(from)} ${shQuote(to)} 2>/dev/null || cp -p ${shQuote(from)} ${shQuote(to)} || exit 4`);
      linked.push(p.path);
    } else uploads.push(p);
  }
  const dirs = [...new Set(planned.map((p) => path.posix.dirname(`${tmp}/${p.path}`)))];
  const prepare = await runScript(session, `set -u\nmkdir -p ${dirs.map(shQuote).join(' ')} || exit 3\n${links.join('\n')}\n`);
  if (prepare.code !== 0) {
    await session.exec(`rm -rf ${shQuote(tmp)}`).catch(() => undefined);
    throw new AgentError('deploy-failed', `Ferry could not prepare the new agent directory on ${session.label} (${prepare.stderr.trim() || `exit ${prepare.code}`}). Check free space in ${home}.`);
  }
  try {
    for (const p of uploads) {
      options.onProgress?.({ file: p.path, step: 'uploading', bytes: p.size });
      await session.uploadCompressed(p.local, `${tmp}/${p.path}`, { mode: p.mode });
      uploaded.push(p.path);
    }
    options.onProgress?.({ file: 'MANIFEST', step: 'verifying' });
    const old = `${root}/.old-${version}-${tag}`;
    const commit = await runScript(
      session,
      `set -u
cd ${shQuote(tmp)} || exit 3
${planned.map((p) => `chmod ${p.mode.toString(8)} ${shQuote(p.path)} || exit 3`).join('\n')}
bad=$(sha256sum -c - <<'FERRY_SUMS' 2>/dev/null | grep -v ': OK$' | sed 's/: [^:]*$//'
${planned.map((p) => `${p.sha256}  ${p.path}`).join('\n')}
FERRY_SUMS
)
if [ -n "$bad" ]; then ${mark('mismatch')}; echo "$bad"; exit 7; fi
cat > MANIFEST.tmp <<'FERRY_MANIFEST'
${formatManifest(version, arch, planned).trimEnd()}
FERRY_MANIFEST
mv MANIFEST.tmp MANIFEST
cd ${shQuote(root)} || exit 3
# Another deploy (a scan's, a run's) installed the very same files meanwhile and they check out: keep
# that one, which may be starting. A damaged copy (the reason for this install) is replaced below.
if cmp -s ${shQuote(`${version}/MANIFEST`)} ${shQuote(`${tmp}/MANIFEST`)} && (cd ${shQuote(version)} && sha256sum -c --status - <<'FERRY_SUMS'
${planned.map((p) => `${p.sha256}  ${p.path}`).join('\n')}
FERRY_SUMS
); then rm -rf ${shQuote(tmp)}; exit 0; fi
if [ -e ${shQuote(version)} ]; then mv ${shQuote(version)} ${shQuote(old)} || exit 3; fi
mv ${shQuote(tmp)} ${shQuote(version)} || exit 3
rm -rf ${shQuote(old)}
`,
      120_000,
    );
    if (commit.code === 7) {
      await session.exec(`rm -rf ${shQuote(tmp)}`).catch(() => undefined);
      const mismatch = (commit.sections.get('mismatch') ?? []).map((l) => l.trim()).filter(Boolean);
      return { uploaded, linked, checksumMismatch: mismatch.length > 0 ? mismatch : planned.map((p) => p.path) };
    }
    if (commit.code !== 0) {
      throw new AgentError('deploy-failed', `Installing agent ${version} on ${session.label} failed (${commit.stderr.trim() || `exit ${commit.code}`}). Check free space in ${home}; Ferry will upload again next time.`);
    }
  } catch (err) {
    await session.exec(`rm -rf ${shQuote(tmp)}`).catch(() => undefined);
    throw err;
  }
  return { uploaded, linked, checksumMismatch: [] };
}
