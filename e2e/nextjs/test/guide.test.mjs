// docs/nextjs-fastapi.md must match the example line for line: every code block marked
// `<!-- excerpt: path -->` appears, lines unchanged and in one piece, in that file, and the
// guide's commands to start the three processes are the example README's.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../lib/stack.mjs';

const guidePath = path.join(repoRoot, 'docs/nextjs-fastapi.md');
const guide = fs.readFileSync(guidePath, 'utf8');

/** The fenced blocks of a markdown text: { info, lines, marker } (marker: the excerpt path). */
function blocks(markdown) {
  const out = [];
  const re = /(?:<!-- excerpt: (\S+) -->\n)?```(\w*)\n([\s\S]*?)\n```/g;
  for (const m of markdown.matchAll(re)) {
    out.push({ marker: m[1], info: m[2], lines: m[3].split('\n') });
  }
  return out;
}

/** Whether `needle` lines occur, consecutive and unchanged, in `haystack` lines. */
function containsRun(haystack, needle) {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((line, j) => haystack[i + j] === line)) return true;
  }
  return false;
}

describe('docs/nextjs-fastapi.md matches the example', () => {
  const excerpts = blocks(guide).filter((b) => b.marker);

  it('has excerpts to check', () => {
    assert.ok(excerpts.length >= 8, `only ${excerpts.length} excerpts found`);
  });

  for (const excerpt of excerpts) {
    it(`its excerpt of ${excerpt.marker} ("${excerpt.lines[0].trim()}") is in the file`, () => {
      const file = path.join(repoRoot, excerpt.marker);
      assert.ok(fs.existsSync(file), `${excerpt.marker} does not exist`);
      const source = fs.readFileSync(file, 'utf8').split('\n');
      assert.ok(containsRun(source, excerpt.lines), `not found as written:\n${excerpt.lines.join('\n')}`);
    });
  }

  it("starts the three processes with the example README's commands", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'examples/nextjs/README.md'), 'utf8');
    const commands = (md) =>
      blocks(md)
        .filter((b) => b.info === 'sh' && /^# [123]\. /.test(b.lines[0]))
        .map((b) => b.lines.join('\n'));
    const inGuide = commands(guide);
    assert.equal(inGuide.length, 3, 'three numbered command blocks in the guide');
    assert.deepEqual(inGuide, commands(readme));
  });

  it('every relative link points at a file that exists', () => {
    for (const [, target] of guide.matchAll(/\]\(((?:\.\.\/|[\w-]+\.md)[^)#\s]*)(?:#[^)]*)?\)/g)) {
      const resolved = path.resolve(path.dirname(guidePath), target);
      assert.ok(fs.existsSync(resolved), `broken link: ${target}`);
    }
  });
});
