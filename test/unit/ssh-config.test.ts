import { describe, expect, it } from 'vitest';
import { parseSshConfig, tokenizeConfigLine } from '../../electron/ssh/ssh-config.ts';

const opts = { homeDir: '/home/op', defaultUser: 'op' };

describe('parseSshConfig', () => {
  it('resolves each concrete alias like ssh does: first value wins, wildcard blocks are defaults', () => {
    const text = `
# global defaults come first
IdentityFile ~/.ssh/global_key

Host bastion
  HostName 203.0.113.10
  User jumper

Host src1 src2
  HostName %h.internal.example
  ProxyJump bastion
  Port 2201

Host src1
  Port 2222
  User src1user

Host dst-*
  User migrator

Host dst-a
  HostName=10.0.0.5
  IdentityFile "~/.ssh/dst key"

Host *
  User root
  Port 22
`;
    const { hosts, ignored } = parseSshConfig(text, opts);
    expect(ignored).toEqual([]);
    expect(hosts).toEqual([
      { name: 'bastion', address: '203.0.113.10', port: 22, user: 'jumper', identityFile: '/home/op/.ssh/global_key', line: 5 },
      { name: 'src1', address: 'src1.internal.example', port: 2201, user: 'src1user', identityFile: '/home/op/.ssh/global_key', jumpHost: 'bastion', line: 9 },
      { name: 'src2', address: 'src2.internal.example', port: 2201, user: 'root', identityFile: '/home/op/.ssh/global_key', jumpHost: 'bastion', line: 9 },
      { name: 'dst-a', address: '10.0.0.5', port: 22, user: 'migrator', identityFile: '/home/op/.ssh/global_key', line: 21 },
    ]);
  });

  it('expands ~ and % tokens in IdentityFile, and uses the default user without one', () => {
    const { hosts } = parseSshConfig('Host box\n  HostName 192.0.2.7\n  IdentityFile %d/.ssh/id_%r@%h\n', opts);
    expect(hosts).toEqual([{ name: 'box', address: '192.0.2.7', port: 22, user: 'op', identityFile: '/home/op/.ssh/id_op@192.0.2.7', line: 1 }]);
  });

  it('skips wildcard-only and negated patterns as hosts, and honours negation when applying blocks', () => {
    const text = 'Host *.prod !db.prod\n  User produser\nHost web.prod db.prod\n  HostName %h\n';
    const { hosts } = parseSshConfig(text, opts);
    expect(hosts.map((h) => [h.name, h.user])).toEqual([
      ['web.prod', 'produser'],
      ['db.prod', 'op'],
    ]);
  });

  it('reports Include, Match, multi-hop ProxyJump and unmappable ProxyCommand; maps ssh -W', () => {
    const text = [
      'Include ~/.ssh/config.d/*',
      'Host a',
      '  ProxyJump j1,j2',
      'Host b',
      '  ProxyCommand ssh -W %h:%p gateway',
      'Host c',
      '  ProxyCommand nc -x proxy:1080 %h %p',
      'Host d',
      '  ProxyJump admin@jump.example:2200',
      'Match host x',
      '  User nobody',
    ].join('\n');
    const { hosts, ignored } = parseSshConfig(text, opts);
    expect(hosts.find((h) => h.name === 'a')?.jumpHost).toBeUndefined();
    expect(hosts.find((h) => h.name === 'b')?.jumpHost).toBe('gateway');
    expect(hosts.find((h) => h.name === 'c')?.jumpHost).toBeUndefined();
    expect(hosts.find((h) => h.name === 'd')?.jumpHost).toBe('admin@jump.example:2200');
    expect(ignored.map((n) => [n.line, n.directive.split(' ')[0], n.host])).toEqual([
      [1, 'Include', undefined],
      [10, 'Match', undefined],
      [3, 'ProxyJump', 'a'],
      [7, 'ProxyCommand', 'c'],
    ]);
    expect(ignored[0]?.message).toMatch(/not read/);
  });

  it('is case-insensitive for keywords and tolerant of odd spacing and comments', () => {
    const text = 'HOST   x   # trailing comment\n\tHOSTNAME = 198.51.100.1\n  port=2022\n  user "my user"\n';
    expect(parseSshConfig(text, opts).hosts).toEqual([{ name: 'x', address: '198.51.100.1', port: 2022, user: 'my user', line: 1 }]);
  });

  it('tokenizes', () => {
    expect(tokenizeConfigLine('IdentityFile "a b" c # d')).toEqual(['IdentityFile', 'a b', 'c']);
    expect(tokenizeConfigLine('Port=22')).toEqual(['Port', '22']);
    expect(tokenizeConfigLine('  # only a comment')).toEqual([]);
  });
});
