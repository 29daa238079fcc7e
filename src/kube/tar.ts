/**
 * A small streaming extractor for the tar archives `tar cf -` writes in a pod (ustar, GNU long
 * names, pax path headers): regular files and directories only. Entries that would land outside the
 * destination (absolute paths, `..`) are refused; links and devices are skipped.
 *
 * We unpack ourselves rather than run `tar x` so the agent needs no tar, and a pod can never write
 * outside `<workspace>/shopsys-ci/artifacts/<phase>/`.
 */
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'
import {Writable} from 'node:stream'

const BLOCK = 512

export interface ExtractedEntry {
  /** Relative to the destination, with `/`. */
  path: string
  type: 'file' | 'directory'
  size: number
}

/** A safe relative path for an archive member name, or undefined if it escapes. */
export function safeMemberPath(name: string): string | undefined {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.')
  if (parts.length === 0 || parts.some((p) => p === '..')) return undefined
  return parts.join('/')
}

function octal(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length)
  if (field[0] & 0x80) {
    // base-256 (GNU) for big numbers
    let value = 0
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]
    return value
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  return text ? Number.parseInt(text, 8) : 0
}

function cstring(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length)
  const end = field.indexOf(0)
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8')
}

function paxPath(data: Buffer): string | undefined {
  let rest = data.toString('utf8')
  while (rest.length > 0) {
    const space = rest.indexOf(' ')
    if (space === -1) break
    const len = Number.parseInt(rest.slice(0, space), 10)
    if (!Number.isFinite(len) || len <= 0) break
    const record = rest.slice(space + 1, len - 1) // drops the trailing newline
    rest = rest.slice(len)
    const eq = record.indexOf('=')
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1)
  }
  return undefined
}

type State =
  | {kind: 'header'}
  | {kind: 'data'; remaining: number; padding: number; fd?: number; collect?: Buffer[]; meta?: 'L' | 'x'}
  | {kind: 'end'}

export class TarExtractor extends Writable {
  readonly entries: ExtractedEntry[] = []
  readonly skipped: string[] = []
  private pending: Buffer = Buffer.alloc(0)
  private state: State = {kind: 'header'}
  private nextName?: string

  constructor(private readonly dest: string) {
    super()
    mkdirSync(dest, {recursive: true})
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
      this.drain()
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.state.kind === 'data' && this.state.fd !== undefined) closeSync(this.state.fd)
    if (this.state.kind === 'data' && this.state.remaining > 0) return callback(new Error('tar archive is truncated'))
    callback()
  }

  private drain(): void {
    for (;;) {
      const state = this.state
      if (state.kind === 'end') {
        this.pending = Buffer.alloc(0)
        return
      }
      if (state.kind === 'header') {
        if (this.pending.length < BLOCK) return
        const header = this.pending.subarray(0, BLOCK)
        this.pending = this.pending.subarray(BLOCK)
        if (header.every((b) => b === 0)) {
          this.state = {kind: 'end'}
          continue
        }
        this.startEntry(header)
        continue
      }
      // data
      if (state.remaining > 0) {
        if (this.pending.length === 0) return
        const take = Math.min(state.remaining, this.pending.length)
        const piece = this.pending.subarray(0, take)
        if (state.fd !== undefined) writeSync(state.fd, piece)
        if (state.collect) state.collect.push(Buffer.from(piece))
        state.remaining -= take
        this.pending = this.pending.subarray(take)
        if (state.remaining > 0) return
      }
      if (this.pending.length < state.padding) return
      this.pending = this.pending.subarray(state.padding)
      if (state.fd !== undefined) closeSync(state.fd)
      if (state.meta && state.collect) {
        const data = Buffer.concat(state.collect)
        this.nextName = state.meta === 'L' ? data.toString('utf8').replace(/\0+$/, '') : (paxPath(data) ?? this.nextName)
      }
      this.state = {kind: 'header'}
    }
  }

  private startEntry(header: Buffer): void {
    const size = octal(header, 124, 12)
    const padding = (BLOCK - (size % BLOCK)) % BLOCK
    const type = String.fromCharCode(header[156] || 48)
    const magic = cstring(header, 257, 6)
    const prefix = magic.startsWith('ustar') ? cstring(header, 345, 155) : ''
    const headerName = prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100)
    if (type === 'L' || type === 'x') {
      this.state = {kind: 'data', remaining: size, padding, collect: [], meta: type}
      return
    }
    const name = this.nextName ?? headerName
    this.nextName = undefined
    const rel = safeMemberPath(name)
    let fd: number | undefined
    if (type === '0' || type === '7') {
      if (rel) {
        const target = path.join(this.dest, rel)
        mkdirSync(path.dirname(target), {recursive: true})
        fd = openSync(target, 'w', 0o644)
        this.entries.push({path: rel, type: 'file', size})
      } else this.skipped.push(name)
    } else if (type === '5') {
      if (rel) {
        mkdirSync(path.join(this.dest, rel), {recursive: true})
        this.entries.push({path: rel, type: 'directory', size: 0})
      } else if (safeMemberPath(name) === undefined && name.replace(/[/.]/g, '') !== '') this.skipped.push(name)
    } else if (type !== 'g') {
      this.skipped.push(name)
    }
    this.state = {kind: 'data', remaining: size, padding, fd}
  }
}
