// One request written verbatim on a fresh socket, and everything the server
// sends back until it closes. Unlike harness.ts `rawSocket`, the client does
// not half-close after writing (a FIN would read as "client gone" and abort a
// forwarded request); send `Connection: close` so the server closes when done.

import net from 'node:net'

export function rawExchange(port: number, text: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text))
    let out = ''
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(out.slice(0, 200))}`)))
    s.on('data', (c) => { out += c })
    s.on('close', (hadError) => { if (!hadError) resolve(out) })
    s.on('error', (err) => (out ? resolve(out) : reject(err)))
  })
}
