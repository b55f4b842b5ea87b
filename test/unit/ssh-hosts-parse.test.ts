import { describe, expect, it } from 'vitest';
import { HostFacts } from '../../agent/protocol/facts.ts';
import { agentArch, checkVersionLabel, formatManifest, parseManifest } from '../../electron/hosts/agent-layout.ts';
import { AgentError } from '../../electron/hosts/errors.ts';
import { nodeArch, parseProbeOutput, probeScript } from '../../electron/hosts/probe.ts';
import { splitSections } from '../../electron/hosts/remote-script.ts';
import { systemdUnit } from '../../electron/hosts/systemd-unit.ts';
import { SshError } from '../../electron/ssh/errors.ts';

const M = '@@ferry-probe:';
const probeOutput = [
  `${M}uname`,
  'Linux',
  '5.15.0-1050-aws',
  'aarch64',
  'src-host-1',
  `${M}nproc`,
  '16',
  `${M}cpumodel`,
  'Neoverse-N1',
  `${M}meminfo`,
  'MemTotal:       65000000 kB',
  `${M}dir`,
  '/root/.ferry',
  `${M}df`,
  '/dev/nvme0n1p1 101430960 20000000 81414576  20% /',
  `${M}id`,
  '0',
  `${M}mountinfo`,
  '22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw',
  '95 22 0:50 / /mnt/src rw,relatime shared:50 - nfs 10.0.0.5:/export/data rw,vers=3,rsize=1048576,wsize=1048576,hard,proto=tcp,timeo=600,retrans=2,noresvport',
  '96 22 0:51 / /mnt/my\\040dst rw,relatime shared:51 - nfs4 10.0.0.6:/share rw,vers=4.1,soft',
  `${M}end`,
  '',
].join('\n');

describe('probe output parsing', () => {
  it('turns the script output into valid HostFacts, with NFS checks from the agent', () => {
    const facts = parseProbeOutput(probeOutput, 'src1', new Date('2025-01-02T03:04:05Z'));
    expect(HostFacts.parse(facts)).toEqual(facts);
    expect(facts).toMatchObject({
      hostname: 'src-host-1',
      os: 'Linux',
      platform: 'linux',
      release: '5.15.0-1050-aws',
      arch: 'arm64',
      cpuCores: 16,
      cpuModel: 'Neoverse-N1',
      memoryBytes: 65000000 * 1024,
      isRoot: true,
      disk: { path: '/root/.ferry', totalBytes: 101430960 * 1024, freeBytes: 81414576 * 1024 },
      mountsReadable: true,
      probedAt: '2025-01-02T03:04:05.000Z',
    });
    expect(facts.mounts.map((m) => [m.mountPoint, m.isNfs, m.warnings.map((w) => w.code)])).toEqual([
      ['/', false, []],
      ['/mnt/src', true, []],
      ['/mnt/my dst', true, ['nfs-version', 'nfs-soft', 'nfs-resvport', 'nfs-rsize', 'nfs-wsize', 'nfs-timeo']],
    ]);
    expect(facts.prerequisites.every((p) => p.ok)).toBe(true);
  });

  it('reports unreadable mountinfo and a missing cpu model', () => {
    const text = probeOutput.replace(/@@ferry-probe:mountinfo[\s\S]*?@@ferry-probe:end/, `${M}mountinfo\n${M}nomountinfo\n${M}end`).replace('Neoverse-N1', '');
    const facts = parseProbeOutput(text, 'src1');
    expect(facts.mountsReadable).toBe(false);
    expect(facts.mounts).toEqual([]);
    expect(facts.cpuModel).toBe('unknown');
  });

  it('refuses truncated output with a message that names the host', () => {
    expect(() => parseProbeOutput(probeOutput.split(`${M}df`)[0] ?? '', 'src9')).toThrow(SshError);
    expect(() => parseProbeOutput('', 'src9')).toThrow(/probe of src9/);
  });

  it('quotes the directory in the script', () => {
    expect(probeScript("~/it's")).toContain(`d="$HOME"/'it'\\''s'`);
    expect(nodeArch('x86_64')).toBe('x64');
    expect(nodeArch('riscv64')).toBe('riscv64');
  });
});

describe('agent layout', () => {
  it('maps uname -m to runtime arches and refuses others', () => {
    expect(agentArch('x86_64')).toBe('x64');
    expect(agentArch('aarch64\n')).toBe('arm64');
    expect(agentArch('armv7l')).toBeNull();
    expect(agentArch('s390x')).toBeNull();
  });

  it('writes and reads MANIFESTs', () => {
    const entries = [
      { path: 'runtime/bin/node', sha256: 'a'.repeat(64), size: 10, mode: 0o755 },
      { path: 'agent/agent.mjs', sha256: 'b'.repeat(64), size: 5, mode: 0o644 },
    ];
    const text = formatManifest('1.0.0', 'x64', entries);
    expect(text).toBe(`ferry-agent-manifest 1 1.0.0 x64\n${'b'.repeat(64)} 5 644 agent/agent.mjs\n${'a'.repeat(64)} 10 755 runtime/bin/node\n`);
    expect(parseManifest(text)).toEqual({ version: '1.0.0', arch: 'x64', entries: [entries[1], entries[0]] });
    expect(parseManifest('something else')).toBeNull();
    expect(parseManifest(text.replace('644', 'xyz'))).toBeNull();
  });

  it('accepts version labels that are safe directory names only', () => {
    for (const ok of ['1.0.0', '0.1.0-dev+abc', 'broken']) expect(() => checkVersionLabel(ok)).not.toThrow();
    for (const bad of ['', '../x', '.hidden', 'a/b', 'a b', 'x'.repeat(65)]) expect(() => checkVersionLabel(bad)).toThrow(AgentError);
  });

  it('splits script output into sections', () => {
    expect([...splitSections('noise\n@@ferry:a\n1\n2\n@@ferry:b x\n3\n')]).toEqual([
      ['a', ['1', '2']],
      ['b x', ['3', '']],
    ]);
  });

  it('writes a systemd unit that runs the agent with its log', () => {
    const unit = systemdUnit({ node: '/root/.ferry/agent/1.0.0/runtime/bin/node', bundle: '/root/.ferry/agent/1.0.0/agent/agent.mjs', args: ['serve', '--home', '/root/.ferry', '--data-listen', '10.0.0.5:7000'], home: '/root/.ferry', log: '/root/.ferry/agent.log' });
    expect(unit).toContain('ExecStart=/root/.ferry/agent/1.0.0/runtime/bin/node --max-semi-space-size=8 /root/.ferry/agent/1.0.0/agent/agent.mjs serve --home /root/.ferry --data-listen 10.0.0.5:7000\n');
    expect(unit).toContain('StandardOutput=append:/root/.ferry/agent.log');
    expect(unit).toContain('Restart=on-failure');
    expect(systemdUnit({ node: '/a b/node', bundle: '/x%y', args: [], home: '/h', log: '/l' })).toContain('ExecStart="/a b/node" --max-semi-space-size=8 "/x%%y"');
  });
});
