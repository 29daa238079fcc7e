import test from 'ava'

import {foldName, MIN_SLUG_LENGTH, nameHash, slugify} from '../../../src/names/slug.js'
import {BRANCHES} from './_branches.js'

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const HASHED = /-[0-9a-f]{8}$/

test('the table has enough awkward branch names', (t) => {
  t.true(BRANCHES.length >= 40)
  t.is(new Set(BRANCHES).size, BRANCHES.length, 'no duplicates in the table')
})

for (const branch of BRANCHES) {
  test(`slug of ${JSON.stringify(branch.length > 40 ? `${branch.slice(0, 40)}…(${branch.length})` : branch)}`, (t) => {
    const slug = slugify(branch)
    t.regex(slug, DNS_LABEL)
    t.regex(slug, /^[a-z]/, 'starts with a letter')
    t.true(slug.length <= 63)
    t.is(slugify(branch), slug, 'stable')
    if (slug === branch) {
      t.notRegex(slug, /^[0-9]/)
    } else {
      t.true(slug.endsWith(`-${nameHash(branch)}`), 'anything lost → hash of the original name')
    }
    for (const max of [10, 20, 40]) {
      const cut = slugify(branch, max)
      t.regex(cut, DNS_LABEL)
      t.true(cut.length <= max, `≤ ${max}`)
    }
  })
}

test('distinct branches never share a slug', (t) => {
  const seen = new Map<string, string>()
  for (const branch of BRANCHES) {
    for (const max of [63, 30, MIN_SLUG_LENGTH]) {
      const slug = slugify(branch, max)
      const key = `${max}:${slug}`
      t.false(seen.has(key), `${JSON.stringify(branch)} and ${JSON.stringify(seen.get(key))} both give ${slug}`)
      seen.set(key, branch)
    }
  }
})

test('clean names are kept as they are, without a hash', (t) => {
  for (const branch of ['master', 'main', 'develop', 'feature-a', 'release-2024-01', 'x', 'a'.repeat(63)]) {
    t.is(slugify(branch), branch)
  }
})

test('names that fold alike get different slugs', (t) => {
  const slugs = ['Feature/A', 'feature-a', 'feature/a', 'FEATURE/A', 'feature_a', 'feature--a'].map((b) => slugify(b))
  t.is(new Set(slugs).size, slugs.length)
  t.is(slugs[1], 'feature-a')
  for (const slug of [slugs[0], ...slugs.slice(2)]) t.regex(slug, /^feature-a-[0-9a-f]{8}$/)
})

test('slugs are pinned: a change would orphan existing namespaces', (t) => {
  t.is(slugify('feature/a'), 'feature-a-951d42dc')
  t.is(slugify('Feature/A'), 'feature-a-5914af56')
  t.is(slugify('Über'), 'uber-32b332a3')
  t.is(slugify('123-fix'), 'b-123-fix-6af8417c')
  t.is(slugify('日本語'), 'b-77710aed')
})

test('diacritics and special letters are folded', (t) => {
  t.is(foldName('Über'), 'uber')
  t.is(foldName('Česká'), 'ceska')
  t.is(foldName('Straße'), 'strasse')
  t.is(foldName('łódź/Ærø þing Œuvre'), 'lodz-aero-thing-oeuvre')
  t.is(foldName('İstanbul'), 'istanbul')
  t.is(foldName('cafe\u0301'), 'cafe')
  t.is(foldName('ﬁx ｆｕｌｌ'), 'fix-full')
  t.is(foldName('日本語'), '')
})

test('every run of other characters becomes one dash, trimmed', (t) => {
  t.is(slugify('$(rm -rf /)'), `rm-rf-${nameHash('$(rm -rf /)')}`)
  t.is(foldName('line\nbreak'), 'line-break')
  t.is(foldName('---a---'), 'a')
  t.is(foldName('a && b || c'), 'a-b-c')
})

test('empty or digit-led slugs get the b- prefix and a hash', (t) => {
  t.regex(slugify('...'), /^b-[0-9a-f]{8}$/)
  t.regex(slugify('🎉'), /^b-[0-9a-f]{8}$/)
  t.regex(slugify('123'), /^b-123-[0-9a-f]{8}$/)
  t.regex(slugify('2024/fix'), /^b-2024-fix-[0-9a-f]{8}$/)
  t.not(slugify('...'), slugify('🎉'))
})

test('long names are cut to fit, never ending in a dash before the hash', (t) => {
  const long = 'x'.repeat(300)
  t.is(slugify(long), `${'x'.repeat(54)}-${nameHash(long)}`)
  t.regex(slugify('a'.repeat(64)), HASHED)
  t.is(slugify('a'.repeat(64)).length, 63)
  const dashy = 'a-'.repeat(150)
  for (let max = MIN_SLUG_LENGTH; max <= 63; max++) {
    const slug = slugify(dashy, max)
    t.true(slug.length <= max)
    t.notRegex(slug, /--/)
  }
  t.is(slugify('abc', MIN_SLUG_LENGTH), 'abc')
  t.is(slugify('abcdefghijk', MIN_SLUG_LENGTH), `a-${nameHash('abcdefghijk')}`)
})

test('too small a limit is a programming error', (t) => {
  t.throws(() => slugify('master', MIN_SLUG_LENGTH - 1), {instanceOf: RangeError})
})
