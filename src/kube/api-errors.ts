/** Reading the Kubernetes API's errors: status, the API's own message, shortened where it quotes whole objects. */

/** HTTP status of an API error (ApiException `code`, watch errors' `statusCode`). */
export function statusCode(error: unknown): number | undefined {
  const e = error as {code?: unknown; statusCode?: unknown; body?: {code?: unknown}}
  if (typeof e?.code === 'number') return e.code
  if (typeof e?.statusCode === 'number') return e.statusCode
  return undefined
}

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404
export const isConflict = (error: unknown): boolean => statusCode(error) === 409

/** The API's own message from an ApiException (its `body.message`), else the error's message. */
export function apiMessage(error: unknown): string {
  const e = error as {body?: unknown; message?: string}
  let body = e?.body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      // not JSON
    }
  }
  const message = (body as {message?: unknown} | undefined)?.message
  if (typeof message === 'string' && message) return elideInvalidValues(message)
  const text = e?.message ?? String(error)
  // ApiException without a body: "HTTP-Code: 400\nMessage: Error occurred in log request\n…"
  const http = /^HTTP-Code: (\d+)\nMessage: (.*)$/m.exec(text)
  if (http) return `${http[2]} (HTTP ${http[1]})`
  return text.split('\n')[0]
}

/**
 * The API server quotes a rejected value whole, in Go syntax: for an immutable pod template that is
 * several kilobytes on one line. Values over `max` characters become `{…}` or `[…]`; the field path
 * before them and the reason after them stay.
 */
export function elideInvalidValues(message: string, max = 120): string {
  let out = ''
  let from = 0
  for (const match of message.matchAll(/Invalid value: (?=[{[])/g)) {
    const start = match.index! + match[0].length
    if (start < from) continue
    const end = closingBracket(message, start)
    if (end === undefined || end - start + 1 <= max) continue
    out += `${message.slice(from, start)}${message[start]}…${message[end]}`
    from = end + 1
  }
  return out + message.slice(from)
}

/** Index of the bracket closing the one at `start`, skipping quoted strings. */
function closingBracket(text: string, start: number): number | undefined {
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') {
      if (--depth === 0) return i
    }
  }
  return undefined
}
