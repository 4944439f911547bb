// A bounded JSON request body for the reference key host and issuer.

import type http from 'node:http'

const MAX_BODY_BYTES = 16 * 1024

/** The body as text; rejects with Error('too large') past 16 KiB (the caller answers 413 and closes). */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY_BYTES) { reject(new Error('too large')); req.pause(); return }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
