// The README is a front door: its sections moved to docs/ and it links to them, and the docs link
// to each other by file and heading. Every relative link must name a file that exists and, with
// a #fragment, a heading of that file (GitHub's anchors, from github-slugger).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import GithubSlugger from 'github-slugger';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The lines of a Markdown text outside fenced code blocks. */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').filter((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (open && (fence === undefined || open.startsWith(fence))) {
      fence = fence === undefined ? open : undefined;
      return false;
    }
    return fence === undefined;
  });
}

/** GitHub's anchors of a page's headings. */
function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  return new Set(
    prose(markdown).flatMap((line) => {
      const heading = /^#{1,6}\s+(.*?)\s*#*$/.exec(line)?.[1];
      return heading === undefined ? [] : [slugger.slug(heading.replace(/`/g, ''))];
    }),
  );
}

/** Relative link targets of a page: [text](target) and ![alt](target), outside code. */
function relativeLinks(markdown: string): string[] {
  const text = prose(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

describe('links of the README and docs/*.md', () => {
  it.each(pages)('%s: every relative link names an existing file and heading', (page) => {
    const broken: string[] = [];
    for (const link of relativeLinks(readFileSync(path.join(root, page), 'utf8'))) {
      const [file, fragment] = link.split('#') as [string, string | undefined];
      const target =
        file === ''
          ? path.join(root, page)
          : path.resolve(path.dirname(path.join(root, page)), decodeURIComponent(file));
      if (!existsSync(target)) broken.push(`${link}: no file ${path.relative(root, target)}`);
      else if (fragment && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(fragment))
        broken.push(`${link}: no heading #${fragment}`);
    }
    expect(broken).toEqual([]);
  });

  it('the README links to every page of docs/', () => {
    const linked = new Set(
      relativeLinks(readFileSync(path.join(root, 'README.md'), 'utf8')).map((l) => l.split('#')[0]),
    );
    expect(pages.filter((p) => p.startsWith('docs/') && !linked.has(p))).toEqual([]);
  });
});
