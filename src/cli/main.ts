#!/usr/bin/env node
// argv → command. The only place that calls process.exit (STYLE.md layout).
// Every failure ends here as one line on stderr and an exit code from
// usage.ts EXIT (printed by `popgate --help`); a stack trace only for a bug,
// and only with POPGATE_DEBUG=1.

import { version } from './version.js'
import { runServe, runCheck } from './serve.js'
import { runAcl } from './acl.js'
import { runKeygen } from './keys.js'
import { runKeyhost } from './keyhost.js'
import { runFetch } from './fetch.js'
import { runDemo } from './demo.js'
import { runSecrets } from './secrets.js'
import { runSessions } from './sessions.js'
import { runKeys } from './known-keys.js'
import { UsageError, CliError, USAGE, EXIT, helpFor } from './usage.js'

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: runServe, check: runCheck, acl: runAcl, secrets: runSecrets, keygen: runKeygen, keyhost: runKeyhost, fetch: runFetch, demo: runDemo,
  sessions: runSessions, keys: runKeys,
}


/** `--help` anywhere before a `--` asks for help (no option value is ever spelled --help). */
const wantsHelp = (args: readonly string[]) => {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')
}

let command = ''

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd) { process.stderr.write(USAGE); return EXIT.usage }
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') { process.stdout.write(rest[0] ? helpFor(rest[0]) : USAGE); return EXIT.ok }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') { process.stdout.write(`popgate ${version()}\n`); return EXIT.ok }
  const run = COMMANDS[cmd]
  if (!run) throw new UsageError(`unknown command "${cmd}"; the commands are ${Object.keys(COMMANDS).join(', ')}`)
  command = cmd
  if (wantsHelp(rest)) { process.stdout.write(helpFor(cmd)); return EXIT.ok }
  return run(rest)
}

function fail(message: string, code: number): never {
  process.stderr.write(`popgate${command ? ' ' + command : ''}: ${message}\n`)
  process.exit(code)
}

// `popgate fetch … | head -1`: the reader went away. That is not an error of
// ours; stop quietly with the status we would have had.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok)
  fail(`cannot write to standard output: ${err.code ?? err.message}`, EXIT.software)
})

main(process.argv.slice(2)).then(
  (code) => { if (code !== -1) process.exitCode = code }, // -1: a server keeps running
  (err: unknown) => {
    if (err instanceof UsageError) fail(`${err.message} (see: popgate ${command || ''}${command ? ' ' : ''}--help)`, EXIT.usage)
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      fail(`${(err as Error).message.split('\n')[0]} (see: popgate ${command} --help)`, EXIT.usage)
    }
    if (err instanceof CliError) fail(err.message, err.exitCode)
    if (process.env.POPGATE_DEBUG) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    fail(`internal error: ${(err as Error).message ?? String(err)} (a bug: please report it; POPGATE_DEBUG=1 prints the stack)`, EXIT.software)
  },
)
