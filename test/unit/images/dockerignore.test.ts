import test from 'ava'

import {cleanPath, compilePattern, DockerignoreMatcher, parseDockerignore} from '../../../src/images/dockerignore.js'

test('parse: comments, blank lines, trimming, cleaning, leading slash, exceptions', (t) => {
  const text = '\uFEFF# comment\n\n  node_modules  \n/var/cache/\n! keep.txt\n./a//b/../c\n  # not a comment after spaces\r\n!/x\n'
  t.deepEqual(parseDockerignore(text), ['node_modules', 'var/cache', '!keep.txt', 'a/c', '# not a comment after spaces', '!x'])
})

test('cleanPath is Go path.Clean', (t) => {
  const table: Array<[string, string]> = [
    ['', '.'],
    ['a/b/', 'a/b'],
    ['./a', 'a'],
    ['a/../..', '..'],
    ['/../a', '/a'],
    ['a//b/./c', 'a/b/c'],
    ['/', '/'],
  ]
  for (const [input, want] of table) t.is(cleanPath(input), want, input)
})

test('compilePattern: *, ?, **, classes, escapes', (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['*.log', 'a.log', true],
    ['*.log', 'dir/a.log', false],
    ['**/*.log', 'a.log', true],
    ['**/*.log', 'x/y/a.log', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**', 'a/x/y', true],
    ['a/**', 'a', false],
    ['**', 'anything/at/all', true],
    ['?.txt', 'a.txt', true],
    ['?.txt', 'ab.txt', false],
    ['[abc].txt', 'b.txt', true],
    ['[!abc].txt', 'b.txt', false],
    ['[!abc].txt', 'd.txt', true],
    ['file\\*', 'file*', true],
    ['file\\*', 'filex', false],
    ['a.b', 'axb', false],
    ['(x)+{y}$', '(x)+{y}$', true],
  ]
  for (const [pattern, file, want] of cases) t.is(compilePattern(pattern).test(file), want, `${pattern} ~ ${file}`)
})

test('matches: a pattern matches the path or a parent; last match wins; exceptions', (t) => {
  const m = DockerignoreMatcher.fromText('node_modules\n**/*.log\nvar\n!var/keep.txt\ndocs/*.md\n!docs/README.md\n')
  const table: Array<[string, boolean]> = [
    ['node_modules', true],
    ['node_modules/x/index.js', true],
    ['src/node_modules/x', false],
    ['a.log', true],
    ['src/deep/a.log', true],
    ['var/cache/x', true],
    ['var/keep.txt', false],
    ['docs/a.md', true],
    ['docs/README.md', false],
    ['docs/sub/a.md', false],
    ['src/index.php', false],
  ]
  for (const [file, want] of table) t.is(m.matches(file), want, file)
})

test('exception order: an exception before the exclusion does not help', (t) => {
  const m = DockerignoreMatcher.fromText('!keep.txt\n*.txt\n')
  t.true(m.matches('keep.txt'))
  const n = DockerignoreMatcher.fromText('*.txt\n!keep.txt\n')
  t.false(n.matches('keep.txt'))
})

test('mayReincludeBelow: enter an excluded directory only when an exception could match inside', (t) => {
  const m = DockerignoreMatcher.fromText('var\nvendor\n!var/keep/a.txt\n!**/LICENSE\n')
  t.true(m.mayReincludeBelow('var'))
  t.true(m.mayReincludeBelow('var/keep'))
  t.true(m.mayReincludeBelow('vendor'))
  const plain = DockerignoreMatcher.fromText('var\n!src/x\n')
  t.false(plain.mayReincludeBelow('var'))
  t.true(plain.hasExclusions)
  t.false(DockerignoreMatcher.fromText('var\n').hasExclusions)
})
