import { createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { HostKeyStore } from '../../electron/ssh/host-key-store.ts';
import { checkHostKey, entryMatchesHost, fingerprintOf, globMatch, hostKeyAlgorithmsFor, keyTypeOf, parseKnownHosts } from '../../electron/ssh/known-hosts.ts';
import { shPath, shQuote, sftpPath } from '../../electron/ssh/shell.ts';

function publicBlob(type: 'ed25519' | 'ecdsa' | 'rsa'): Buffer {
  const pair = type === 'ed25519' ? ssh2.utils.generateKeyPairSync('ed25519') : type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }) : ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
  return Buffer.from(pair.public.split(' ')[1] ?? '', 'base64');
}
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const ed = publicBlob('ed25519');
const ed2 = publicBlob('ed25519');
const ecdsa = publicBlob('ecdsa');
const rsa = publicBlob('rsa');

describe('known_hosts matching', () => {
  it('reads key types from blobs and fingerprints like OpenSSH', () => {
    expect(keyTypeOf(ed)).toBe('ssh-ed25519');
    expect(keyTypeOf(ecdsa)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(rsa)).toBe('ssh-rsa');
    expect(keyTypeOf(Buffer.alloc(2))).toBe('unknown');
    expect(fingerprintOf(ed)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('matches plain names, lists, [host]:port, wildcards, negation and hashed names', () => {
    expect(entryMatchesHost({ hosts: '10.0.0.1' }, '10.0.0.1', 22)).toBe(true);
    expect(entryMatchesHost({ hosts: '10.0.0.1' }, '10.0.0.1', 2222)).toBe(false);
    expect(entryMatchesHost({ hosts: '[10.0.0.1]:2222' }, '10.0.0.1', 2222)).toBe(true);
    expect(entryMatchesHost({ hosts: 'a.example,10.0.0.1' }, '10.0.0.1', 22)).toBe(true);
    expect(entryMatchesHost({ hosts: '*.Example.com' }, 'nas.example.COM', 22)).toBe(true);
    expect(entryMatchesHost({ hosts: '10.0.0.?' }, '10.0.0.7', 22)).toBe(true);
    expect(entryMatchesHost({ hosts: '10.0.0.?' }, '10.0.0.77', 22)).toBe(false);
    expect(entryMatchesHost({ hosts: '*.example.com,!bad.example.com' }, 'bad.example.com', 22)).toBe(false);
    expect(entryMatchesHost({ hosts: hashed('10.0.0.1') }, '10.0.0.1', 22)).toBe(true);
    expect(entryMatchesHost({ hosts: hashed('[10.0.0.1]:2222') }, '10.0.0.1', 2222)).toBe(true);
    expect(entryMatchesHost({ hosts: hashed('10.0.0.1') }, '10.0.0.2', 22)).toBe(false);
    expect(globMatch('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyy')).toBe(false);
  });

  it('decides known, unknown, changed (same or other type) and revoked', () => {
    const text = [
      '# comment',
      `host1 ssh-ed25519 ${ed.toString('base64')} comment`,
      `host2 ssh-rsa ${rsa.toString('base64')}`,
      `@cert-authority *.example ssh-ed25519 ${ed2.toString('base64')}`,
      `@revoked * ecdsa-sha2-nistp256 ${ecdsa.toString('base64')}`,
      'garbage line',
    ].join('\n');
    const entries = parseKnownHosts(text, '/f');
    expect(entries).toHaveLength(4);
    expect(checkHostKey(entries, 'host1', 22, 'ssh-ed25519', ed)).toEqual({ status: 'known', source: '/f:2' });
    expect(checkHostKey(entries, 'host1', 2222, 'ssh-ed25519', ed)).toEqual({ status: 'unknown' });
    expect(checkHostKey(entries, 'host1', 22, 'ssh-ed25519', ed2)).toEqual({ status: 'changed', knownAt: ['/f:2'], knownTypes: ['ssh-ed25519'] });
    expect(checkHostKey(entries, 'host2', 22, 'ssh-ed25519', ed)).toEqual({ status: 'changed', knownAt: ['/f:3'], knownTypes: ['ssh-rsa'] });
    expect(checkHostKey(entries, 'x.example', 22, 'ssh-ed25519', ed2)).toEqual({ status: 'unknown' });
    expect(checkHostKey(entries, 'host9', 22, 'ecdsa-sha2-nistp256', ecdsa)).toEqual({ status: 'revoked', source: '/f:5' });
  });

  it('offers the known key types of a host first', () => {
    const entries = parseKnownHosts(`host2 ssh-rsa ${rsa.toString('base64')}`, '/f');
    expect(hostKeyAlgorithmsFor(entries, 'host2', 22).slice(0, 4)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithmsFor(entries, 'other', 22)[0]).toBe('ssh-ed25519');
  });
});

describe('HostKeyStore', () => {
  it('remembers keys atomically (concurrent accepts keep every line) and forgets a host', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-khs-'));
    try {
      const userFile = path.join(dir, 'user_known_hosts');
      await fs.writeFile(userFile, `[h0]:2222 ssh-ed25519 ${ed2.toString('base64')}\n`);
      const store = new HostKeyStore({ dataDir: dir, userKnownHostsFile: userFile });
      await Promise.all(Array.from({ length: 20 }, (_v, i) => store.remember(`h${i}`, 22, 'ssh-ed25519', ed)));
      await store.remember('h1', 22, 'ssh-ed25519', ed);
      const text = await fs.readFile(path.join(dir, 'known_hosts'), 'utf8');
      expect(text.trim().split('\n')).toHaveLength(20);
      expect((await fs.stat(path.join(dir, 'known_hosts'))).mode & 0o777).toBe(0o600);
      expect((await store.verify('h3', 22, 'ssh-ed25519', ed)).status).toBe('known');
      expect((await store.verify('h0', 2222, 'ssh-ed25519', ed2)).status).toBe('known');
      expect(await store.forget('h3', 22)).toBe(1);
      expect((await store.verify('h3', 22, 'ssh-ed25519', ed)).status).toBe('unknown');
      expect(await store.forget('h0', 2222)).toBe(0);
      expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('shell quoting', () => {
  it('quotes anything for sh and handles ~/ paths', () => {
    expect(shQuote('plain-path/x.y')).toBe('plain-path/x.y');
    expect(shQuote("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
    expect(shQuote('')).toBe("''");
    expect(shPath('~/.ferry/agent')).toBe('"$HOME"/.ferry/agent');
    expect(shPath('~/a b')).toBe(`"$HOME"/'a b'`);
    expect(shPath('/abs')).toBe('/abs');
    expect(sftpPath('~/.ferry/x')).toBe('.ferry/x');
    expect(() => shQuote('a\0b')).toThrow();
  });
});
