/**
 * Splits a byte stream into lines as it arrives: for streaming a child's or a pod's output into the
 * Jenkins log line by line. Bytes are decoded with a StringDecoder, so a character whose UTF-8 bytes
 * arrive in two chunks (Czech test names, "Über") is not broken into replacement characters.
 */
import {StringDecoder} from 'node:string_decoder'

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''

  constructor(private readonly onLine: (line: string) => void) {}

  /** Decodes `chunk`, calls `onLine` for each line it completes, and returns the decoded text. */
  push(chunk: Buffer | string): string {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    const lines = (this.partial + text).split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) this.onLine(line.replace(/\r$/, ''))
    return text
  }

  /** The rest: an unterminated last line, and any bytes of an incomplete character. */
  end(): string {
    const text = this.decoder.end()
    const last = this.partial + text
    this.partial = ''
    if (last) this.onLine(last.replace(/\r$/, ''))
    return text
  }
}
