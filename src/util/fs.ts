/** File helpers shared by the stages. */
import {randomBytes} from 'node:crypto'
import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

/** Writes via a temporary file in the same directory and a rename, so readers never see half a file. */
export async function writeFileAtomic(file: string, content: string, options: {mode?: number} = {}): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true})
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(temporary, content, options)
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, {force: true})
    throw error
  }
}
