/**
 * A small glob matcher over byte paths (never decodes a name). Syntax:
 *   *      any bytes except '/'          ?     one byte except '/'
 *   **     any bytes including '/'       [abc] [a-z] [!a-z]  one byte from (or not from) a set
 *   \x     the byte x literally
 * A pattern without '/' matches any single component (the basename of any path, like rsync and
 * .gitignore); a pattern with '/' matches the whole relative path (a leading '/' anchors it at the
 * root and is ignored). Matching is iterative with backtracking for '*' and '**' (no recursion).
 */

type Token =
  | { t: 'lit'; b: number }
  | { t: 'any' } // ?
  | { t: 'star' } // *
  | { t: 'globstar' } // **
  | { t: 'set'; neg: boolean; ranges: [number, number][] };

const SLASH = 0x2f;

export interface Glob {
  source: string;
  /** True when the pattern has a '/', i.e. matches full paths rather than names. */
  anchored: boolean;
  tokens: Token[];
}

export function compileGlob(pattern: string): Glob {
  let p = Buffer.from(pattern, 'utf8');
  if (p.length === 0) throw new Error('An empty glob pattern matches nothing; remove it.');
  const anchored = p.includes(SLASH);
  if (p[0] === SLASH) p = p.subarray(1);
  const tokens: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as number;
    if (c === 0x5c && i + 1 < p.length) {
      tokens.push({ t: 'lit', b: p[++i] as number });
    } else if (c === 0x2a) {
      if (p[i + 1] === 0x2a) {
        tokens.push({ t: 'globstar' });
        i++;
        // "**/" also matches zero directories: a/**/b matches a/b.
        if (p[i + 1] === SLASH) {
          i++;
          tokens.push({ t: 'lit', b: -1 }); // optional slash marker
        }
      } else {
        tokens.push({ t: 'star' });
      }
    } else if (c === 0x3f) {
      tokens.push({ t: 'any' });
    } else if (c === 0x5b) {
      const end = p.indexOf(0x5d, i + 2);
      if (end < 0) {
        tokens.push({ t: 'lit', b: c });
        continue;
      }
      let j = i + 1;
      const neg = p[j] === 0x21 || p[j] === 0x5e;
      if (neg) j++;
      const ranges: [number, number][] = [];
      while (j < end) {
        const a = p[j] as number;
        if (p[j + 1] === 0x2d && j + 2 < end) {
          ranges.push([a, p[j + 2] as number]);
          j += 3;
        } else {
          ranges.push([a, a]);
          j++;
        }
      }
      tokens.push({ t: 'set', neg, ranges });
      i = end;
    } else {
      tokens.push({ t: 'lit', b: c });
    }
  }
  return { source: pattern, anchored, tokens };
}

/** Matches tokens against all of s. The "optional slash" literal (b = -1) after ** matches '/' or nothing. */
function matchTokens(tokens: Token[], s: Uint8Array, start: number, end: number): boolean {
  // Backtracking stack of [tokenIndex, position] alternatives to try.
  const stack: [number, number][] = [[0, start]];
  while (stack.length > 0) {
    let [ti, si] = stack.pop() as [number, number];
    let ok = true;
    while (ok) {
      if (ti === tokens.length) {
        if (si === end) return true;
        break;
      }
      const tok = tokens[ti] as Token;
      switch (tok.t) {
        case 'lit':
          if (tok.b === -1) {
            if (si < end && s[si] === SLASH) stack.push([ti + 1, si]);
            if (si < end && s[si] === SLASH) si++;
            ti++;
          } else if (si < end && s[si] === tok.b) {
            si++;
            ti++;
          } else ok = false;
          break;
        case 'any':
          if (si < end && s[si] !== SLASH) {
            si++;
            ti++;
          } else ok = false;
          break;
        case 'set': {
          if (si >= end || s[si] === SLASH) {
            ok = false;
            break;
          }
          const b = s[si] as number;
          const hit = tok.ranges.some(([lo, hi]) => b >= lo && b <= hi);
          if (hit !== tok.neg) {
            si++;
            ti++;
          } else ok = false;
          break;
        }
        case 'star':
          // Try "empty" now; remember "one more byte" as an alternative.
          if (si < end && s[si] !== SLASH) stack.push([ti, si + 1]);
          ti++;
          break;
        case 'globstar':
          if (si < end) stack.push([ti, si + 1]);
          ti++;
          break;
      }
    }
  }
  return false;
}

/** Whether the relative path (bytes) matches the glob. */
export function globMatches(g: Glob, rel: Uint8Array): boolean {
  if (g.anchored) return matchTokens(g.tokens, rel, 0, rel.length);
  // Unanchored: any single component.
  let start = 0;
  for (let i = 0; i <= rel.length; i++) {
    if (i === rel.length || rel[i] === SLASH) {
      if (matchTokens(g.tokens, rel, start, i)) return true;
      start = i + 1;
    }
  }
  return false;
}
