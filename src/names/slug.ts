/**
 * Branch name → slug (DESIGN §4), after werf's pkg/slug.
 *
 * Rules:
 * - lower-case, diacritics folded (`Über` → `uber`, `Straße` → `strasse`), every run of characters
 *   outside `[a-z0-9]` → one `-`, trimmed of `-`;
 * - a slug that would be empty or start with a digit gets the prefix `b-`, so every slug starts with a
 *   letter: it is then a DNS-1035 label too, usable for Service names, and never reads as a YAML number;
 * - if the slug is not exactly the branch itself (anything was folded, dropped or prefixed) or it must be
 *   cut to fit, `-` and the first 8 hex digits of sha256(original branch) are appended, so branches that
 *   fold alike (`Feature/A`, `feature/a`, `feature-a`) still get distinct slugs;
 * - the result is a DNS-1123 label of at most `maxLength` characters that never ends in `-`.
 *
 * Non-Latin scripts (`日本語`) are not transliterated; they fold to nothing and the hash carries them.
 */
import {createHash} from 'node:crypto'

/** Hex digits of the hash suffix: 32 bits, plenty for the branches of one project. */
export const SLUG_HASH_LENGTH = 8

/** Prefix for slugs that would be empty or start with a digit. */
export const SLUG_LETTER_PREFIX = 'b-'

/** The shortest a slug can ever be cut to: one letter, `-`, the hash. */
export const MIN_SLUG_LENGTH = 1 + 1 + SLUG_HASH_LENGTH

/** DNS-1123 label limit: namespaces and host labels. */
export const DNS_LABEL_MAX = 63

/**
 * Letters that NFKD leaves alone because they are not "letter + accent" (ß, æ, ø, ł …).
 * Keys are lower-case: the input is lower-cased first.
 */
const FOLD: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  ŀ: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
  ŋ: 'n',
  ĸ: 'k',
}
const FOLD_RE = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'gu')

/** Lower-cased, diacritics folded, non-`[a-z0-9]` runs → `-`, trimmed. No prefix, no hash. */
export function foldName(text: string): string {
  return text
    .toLowerCase()
    .replace(FOLD_RE, (c) => FOLD[c])
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/** Short stable hash of the original (unfolded) name. */
export function nameHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, SLUG_HASH_LENGTH)
}

export function slugify(branch: string, maxLength = DNS_LABEL_MAX): string {
  if (!Number.isInteger(maxLength) || maxLength < MIN_SLUG_LENGTH) {
    throw new RangeError(`slug maxLength must be an integer >= ${MIN_SLUG_LENGTH}, got ${maxLength}`)
  }
  let base = foldName(branch)
  if (!/^[a-z]/.test(base)) base = (SLUG_LETTER_PREFIX + base).replace(/-+$/, '')
  if (base === branch && base.length <= maxLength) return base

  const room = maxLength - 1 - SLUG_HASH_LENGTH
  // base starts with a letter, so cutting and trimming never leaves it empty.
  const cut = base.slice(0, room).replace(/-+$/, '')
  return `${cut}-${nameHash(branch)}`
}
