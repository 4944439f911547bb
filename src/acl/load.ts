// Reads an ACL file from disk. The one piece of I/O in src/acl; everything
// else takes text or values.

import { readFile } from 'node:fs/promises'
import { Problems } from '../config/yaml-source.js'
import { parseAcl, type AclResult } from './parse.js'

export async function loadAclFile(file: string): Promise<AclResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const problems = new Problems(file)
    const code = (err as NodeJS.ErrnoException).code
    problems.at({ line: 1, col: 1 }, '', `cannot read the ACL file${code ? ` (${code})` : ''}: ${(err as Error).message}`)
    return { acl: undefined, problems: problems.list }
  }
  return parseAcl(text, file)
}
