/** A git commit id as Jenkins' GIT_COMMIT gives it: 7 to 64 hexadecimal digits (SHA-1 or SHA-256). */
export function isCommitId(value: string): boolean {
  return /^[0-9a-f]{7,64}$/i.test(value)
}
