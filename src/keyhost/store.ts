// Key storage for the reference key host: in memory, or one JSON file per key
// in a directory (survives restarts; written atomically via rename).

import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { JWK } from 'jose'

export interface StoredKey { readonly id: string; readonly jwk: JWK; readonly expiresAtMs: number }

export interface KeyStore {
  get(id: string): Promise<StoredKey | undefined>
  put(key: StoredKey): Promise<void>
  delete(id: string): Promise<boolean>
  list(): Promise<StoredKey[]>
}

const ID = /^[A-Za-z0-9_-]{1,64}$/

export function createMemoryKeyStore(): KeyStore {
  const keys = new Map<string, StoredKey>()
  return {
    async get(id) { return keys.get(id) },
    async put(k) { keys.set(k.id, k) },
    async delete(id) { return keys.delete(id) },
    async list() { return [...keys.values()] },
  }
}

export function createDirKeyStore(dir: string): KeyStore {
  const file = (id: string) => {
    if (!ID.test(id)) throw new Error('invalid key id')
    return join(dir, `${id}.json`)
  }
  return {
    async get(id) {
      if (!ID.test(id)) return undefined
      try { return JSON.parse(await readFile(file(id), 'utf8')) as StoredKey } catch { return undefined }
    },
    async put(k) {
      await mkdir(dir, { recursive: true })
      const tmp = file(k.id) + '.tmp'
      await writeFile(tmp, JSON.stringify(k))
      await rename(tmp, file(k.id))
    },
    async delete(id) {
      if (!ID.test(id)) return false
      try { await rm(file(id)); return true } catch { return false }
    },
    async list() {
      let names: string[] = []
      try { names = await readdir(dir) } catch { return [] }
      const out: StoredKey[] = []
      for (const n of names) if (n.endsWith('.json')) { const k = await this.get(n.slice(0, -5)); if (k) out.push(k) }
      return out
    },
  }
}
