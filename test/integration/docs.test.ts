// Runs the shell commands README.md and docs/*.md mark as runnable, in
// order, as an operator would type them in one terminal, against the
// shipped example files. A documented command that stops working fails here.
//
// The marker is the info string of a fenced block (GitHub still highlights it
// as sh):
//
//   ```sh runnable                      each command must exit 0
//   ```sh runnable exit=1               ...except the block's last, which must exit 1
//   ```sh runnable prints="T"           ...and the block's last must print T on stdout
//   ```sh runnable background wait="T"  one long-running command (serve, keyhost, a
//                                        backend): started in the background ("in another
//                                        terminal"); the next block runs once T appears
//                                        in its output. Stopped when the document ends.
//
// A command is a line (a trailing `\` continues it); blank lines and `#`
// lines are skipped; no heredocs. Each document gets a fresh folder holding
// copies of the shipped example files (config/, examples/, acl.example.yaml
// and its cases file) as git tracks them — never a file a user made in the
// checkout, such as config/secrets.yaml — links to dist/ and node_modules/,
// and `popgate` on PATH (this build). Commands of one document share one
// `sh`, so a variable set in one block (KEY_URL=...) is seen by the next.
// Nothing leaves 127.0.0.1: the ports the docs use (8080, 8443, 9090, 3000)
// are replaced, in commands and in the copied config files, by free ports
// the OS hands out.

import t from 'tap'
import net from 'node:net'
import { freePort } from '../helpers/harness.js'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ROOT, MAIN, ENV } from './cli-run.js'

t.setTimeout(240_000)

interface Block { readonly line: number; readonly commands: string[]; readonly exit: number; readonly prints?: string; readonly background?: string }

/** The runnable blocks of one Markdown file. */
export function runnableBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```sh runnable(.*)$/.exec(lines[i]!)
    if (!open) continue
    const attrs = open[1]!
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length && !lines[j]!.startsWith('```'); j++) body.push(lines[j]!)
    const commands: string[] = []
    let pending = ''
    for (const l of body) {
      if (!pending && (l.trim() === '' || l.trim().startsWith('#'))) continue
      if (l.endsWith('\\')) { pending += l.slice(0, -1) + ' '; continue }
      commands.push(pending + l)
      pending = ''
    }
    const background = /background wait="([^"]+)"/.exec(attrs)?.[1]
    blocks.push({ line: i + 1, commands, exit: Number(/exit=(\d+)/.exec(attrs)?.[1] ?? 0), prints: /prints="([^"]+)"/.exec(attrs)?.[1], background })
    i = j
  }
  return blocks
}

const DOC_PORTS = ['8080', '8443', '9090', '3000']

/** What the package ships for the docs to use; the list when the checkout is not a git one. */
const SHIPPED = ['config/gateway.yaml', 'config/local.yaml', 'config/dpop.yaml', 'examples/dpop-as.mjs', 'examples/dpop-token.mjs', 'acl.example.yaml', 'acl.example.cases.yaml', 'package.json']

/**
 * The example files as the repository has them: `git ls-files`, so that what
 * a user made in the checkout (`popgate secrets generate --out
 * config/secrets.yaml`, as the README says) never reaches the copy.
 */
export function shippedFiles(root: string): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z', '--', 'config', 'examples', 'acl.example.yaml', 'acl.example.cases.yaml', 'package.json'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
  } catch {
    return SHIPPED
  }
}

/** A fresh folder an operator could have: the example files, this build as `popgate`. */
async function workspace(ports: Map<string, string>): Promise<{ dir: string; env: NodeJS.ProcessEnv; swap: (s: string) => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-docs-'))
  const swap = (s: string) => s.replace(new RegExp(`\\b(${DOC_PORTS.join('|')})\\b`, 'g'), (p) => ports.get(p)!)
  for (const f of shippedFiles(ROOT)) {
    await mkdir(dirname(join(dir, f)), { recursive: true })
    if (f.startsWith('config/') && f.endsWith('.yaml')) await writeFile(join(dir, f), swap(await readFile(join(ROOT, f), 'utf8')))
    else await copyFile(join(ROOT, f), join(dir, f))
  }
  await symlink(join(ROOT, 'dist'), join(dir, 'dist'))
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  await mkdir(join(dir, '.bin'))
  await writeFile(join(dir, '.bin', 'popgate'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`)
  await chmod(join(dir, '.bin', 'popgate'), 0o755)
  const env = { ...ENV, PATH: `${join(dir, '.bin')}:${ENV.PATH}` }
  return { dir, env, swap }
}

/** One `sh` for a document: commands go in one at a time, each followed by a status marker. */
function shell(dir: string, env: NodeJS.ProcessEnv) {
  const sh = spawn('sh', [], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = '', err = ''
  sh.stdout.on('data', (c) => { out += c })
  sh.stderr.on('data', (c) => { err += c })
  let n = 0
  return {
    run(command: string, timeoutMs = 60_000): Promise<{ status: number; out: string; err: string }> {
      const id = ++n
      const file = join(dir, '.bin', `cmd-${id}.sh`)
      const marker = new RegExp(`@@docs ${id} (\\d+)@@\\n`)
      const from = { out: out.length, err: err.length }
      return writeFile(file, command + '\n').then(() => new Promise((resolve, reject) => {
        const check = () => {
          const m = marker.exec(out.slice(from.out))
          if (!m) return
          done()
          resolve({ status: Number(m[1]), out: out.slice(from.out, from.out + m.index), err: err.slice(from.err) })
        }
        const onExit = () => { done(); reject(new Error(`the shell exited during: ${command}\n${err.slice(from.err)}`)) }
        const timer = setTimeout(() => { done(); reject(new Error(`no end within ${timeoutMs} ms: ${command}\n${out.slice(from.out)}\n${err.slice(from.err)}`)) }, timeoutMs)
        const done = () => { clearTimeout(timer); sh.stdout.off('data', check); sh.off('exit', onExit) }
        sh.stdout.on('data', check)
        sh.on('exit', onExit)
        // stdin of the command is /dev/null: it cannot eat the commands that follow.
        sh.stdin.write(`. ${JSON.stringify(file)} </dev/null; printf '\\n@@docs ${id} %s@@\\n' "$?"\n`)
      }))
    },
    close() { sh.stdin.end(); sh.kill() },
  }
}

/** A background command in its own process group, so the group is stopped whole. */
function background(command: string, dir: string, env: NodeJS.ProcessEnv, wait: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn('sh', ['-c', command], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let seen = ''
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`"${wait}" not printed within 30 s by: ${command}\n${seen}`)), 30_000)
    const onData = (c: Buffer) => { seen += c; if (seen.includes(wait)) { clearTimeout(timer); resolve() } }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited (${code}) before printing "${wait}": ${command}\n${seen}`)) })
  })
  ready.catch(() => {})
  return { child, ready }
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }, 5_000)
    child.once('exit', () => { clearTimeout(force); resolve() })
    try { process.kill(-child.pid!, 'SIGTERM') } catch { clearTimeout(force); resolve() }
  })
}

const DOCS = ['README.md', ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
const ran: string[] = []

for (const doc of DOCS) {
  const blocks = runnableBlocks(await readFile(join(ROOT, doc), 'utf8'))
  if (blocks.length === 0) continue
  t.test(`${doc}: every runnable command works as written`, async (t) => {
    const ports = new Map<string, string>()
    for (const p of DOC_PORTS) ports.set(p, String(await freePort()))
    const ws = await workspace(ports)
    const sh = shell(ws.dir, ws.env)
    const bg: ChildProcess[] = []
    t.teardown(async () => { sh.close(); await Promise.all(bg.map(stopGroup)); await rm(ws.dir, { recursive: true, force: true }) })
    for (const block of blocks) {
      if (block.background) {
        const command = ws.swap(block.commands.join('\n'))
        const b = background(command, ws.dir, ws.env, block.background)
        bg.push(b.child)
        await b.ready
        t.pass(`${doc}:${block.line}: running: ${block.commands[0]}`)
        ran.push(command)
        continue
      }
      for (const [i, raw] of block.commands.entries()) {
        const r = await sh.run(ws.swap(raw))
        const want = i === block.commands.length - 1 ? block.exit : 0
        t.equal(r.status, want, `${doc}:${block.line}: \`${raw}\` exits ${want}`, { out: r.out, err: r.err })
        if (r.status !== want) return
        if (i === block.commands.length - 1 && block.prints) t.match(r.out, block.prints, `${doc}:${block.line}: prints ${block.prints}`)
        ran.push(raw)
      }
    }
  })
}

t.test('the workspace copies what git tracks, not what a user made in the checkout', async (t) => {
  const files = shippedFiles(ROOT)
  t.ok(files.includes('config/gateway.yaml') && files.includes('acl.example.yaml'), 'the examples are there')
  t.notOk(files.includes('config/secrets.yaml'), 'config/secrets.yaml (made by `popgate secrets generate`, ignored) is not')
  // A checkout where a user followed the README: an ignored file in config/.
  const made = join(ROOT, 'config', `secrets.docs-test-${process.pid}.yaml`)
  await writeFile(made, 'nonce: []\n')
  t.teardown(() => rm(made, { force: true }))
  t.notOk(shippedFiles(ROOT).some((f) => f.includes('docs-test')), 'an untracked file in config/ is not copied')
})

t.test('the docs keep the commands an operator needs runnable', async (t) => {
  for (const needed of [/popgate check --config/, /popgate acl explain /, /popgate acl lint /, /popgate keygen /, /popgate keyhost publish /, /popgate fetch /, /popgate secrets generate/, /popgate keyhost --identity/, /popgate serve --config/, /popgate fetch .*--dpop-token/, /examples\/dpop-token\.mjs/]) {
    t.ok(ran.some((c) => needed.test(c)), `a runnable, passing command matches ${needed}`)
  }
})
