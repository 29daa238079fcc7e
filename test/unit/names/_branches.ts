/** Branch names that every naming test runs over: the awkward cases Jenkins and git users produce. */
export const BRANCHES: readonly string[] = [
  // already clean: must come out unchanged
  'master',
  'main',
  'develop',
  'feature-a',
  'release-2024-01',
  'x',
  // case and separators
  'Feature/A',
  'feature/a',
  'FEATURE/A',
  'feature_a',
  'feature.a',
  'feature--a',
  'feature/JIRA-1234_Add-Checkout',
  'hotfix/1.2.3',
  'dependabot/npm_and_yarn/handlebars-4.7.8',
  'refs/heads/feature/x',
  // Unicode
  'Über',
  'feature/Über-straße',
  'Česká-republika',
  'łódź/Ærø',
  '日本語',
  'feature/日本語',
  'Ελληνικά',
  'русский-branch',
  'İstanbul',
  'ﬁx/ｆｕｌｌｗｉｄｔｈ',
  'cafe\u0301', // "café" with a combining accent (NFD)
  'café', // the same, precomposed (NFC): a different git ref, so a different slug
  // emoji
  '🎉',
  'feature/🚀-launch',
  // leading digits and dashes, punctuation only
  '123',
  '1-fix',
  '2024/fix',
  '-leading-dash',
  '--',
  '---a---',
  '...',
  '/',
  '%2F',
  // shell metacharacters: never passed to a shell, just folded
  '$(rm -rf /)',
  '`id`',
  'a;b',
  "it's",
  '"quoted"',
  'line\nbreak',
  'tab\there',
  'a && b || c > /dev/null',
  '${HOME}',
  // long
  'a'.repeat(63),
  'a'.repeat(64),
  'feature/' + 'very-long-name-'.repeat(20),
  'x'.repeat(300),
  'Ü'.repeat(300),
  'a-'.repeat(150),
]
