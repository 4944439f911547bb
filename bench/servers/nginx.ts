// Case 4: nginx proxy_pass with upstream keep-alive, one worker (the gateway
// is one process too), started from a temp nginx.conf. Only when an nginx
// binary is present. Access log on, to /dev/null, like the gateway case 5.

import { spawn } from 'node:child_process'
import { mkdir, writeFile, readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort } from '../lib/children.js'
import { childPids } from '../lib/proc-stats.js'
import { which } from '../lib/which.js'

export const nginxBinary = (): string | undefined => which('nginx')

export function nginxConf(dir: string, port: number, upstream: URL): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log /dev/null;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  upstream backend {
    server ${upstream.host};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`
}

const waitForPort = async (port: number, timeoutMs: number): Promise<void> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true) })
      s.on('error', () => r(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startNginx(binary: string, dir: string, upstreamOrigin: string): Promise<{ port: number; pids: number[]; stop(): Promise<void> }> {
  await mkdir(dir, { recursive: true })
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, nginxConf(dir, port, new URL(upstreamOrigin)))
  const child = spawn(binary, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (c) => { stderr += String(c) })
  const exited = new Promise<never>((_, reject) => child.once('exit', async (code) => {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')
    reject(new Error(`nginx exited with ${code}: ${(stderr + log).trim().slice(-500)}`))
  }))
  exited.catch(() => {})
  await Promise.race([waitForPort(port, 10_000), exited])
  const pids = [child.pid!, ...childPids(child.pid!)]
  return {
    port,
    pids,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const hard = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => { clearTimeout(hard); resolve() })
      child.kill('SIGTERM') // fast shutdown: the master stops its worker too
    }),
  }
}
