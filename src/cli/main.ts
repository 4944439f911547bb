#!/usr/bin/env node
// argv → command. The only place that calls process.exit (STYLE.md layout).
// Exit codes: 0 ok, 1 denied/failed, 2 usage, 78 configuration problems (EX_CONFIG).

import { runServe, runCheck } from './serve.js'
import { runAcl } from './acl.js'
import { runKeygen, runKeyhost } from './keys.js'
import { runFetch } from './fetch.js'
import { runDemo } from './demo.js'
import { UsageError, USAGE } from './usage.js'



const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: runServe, check: runCheck, acl: runAcl, keygen: runKeygen, keyhost: runKeyhost, fetch: runFetch, demo: runDemo,
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') { process.stdout.write(USAGE); return cmd ? 0 : 2 }
  const run = COMMANDS[cmd]
  if (!run) throw new UsageError(`unknown command ${cmd}`)
  return run(rest)
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== -1) process.exitCode = code }, // -1: a server keeps running
  (err) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`popgate: ${(err as Error).message}\n\n${USAGE}`)
      process.exit(2)
    }
    process.stderr.write(`popgate: ${(err as Error).stack ?? err}\n`)
    process.exit(1)
  },
)
