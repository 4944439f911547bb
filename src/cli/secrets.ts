// `popgate secrets generate`: a new secrets file (printed, or written 0600).
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { chmod, writeFile } from 'node:fs/promises'
import { generateSecrets, formatSecretsYaml, formatSecretsEnv } from '../secrets/generate.js'
import { UsageError, CliError, EXIT } from './usage.js'

export async function runSecrets(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub !== 'generate') throw new UsageError(sub ? `unknown subcommand "${sub}"; use: secrets generate` : 'secrets needs a subcommand: generate')
  const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, force: { type: 'boolean' }, env: { type: 'boolean' } } })
  if (values.force && !values.out) throw new UsageError('--force only applies with --out FILE')
  const now = new Date()
  const secrets = generateSecrets(now)
  const text = values.env ? formatSecretsEnv(secrets) : formatSecretsYaml(secrets, now)
  if (!values.out) { process.stdout.write(text); return EXIT.ok }
  const file = resolve(values.out)
  try {
    // wx: never replace a file (its secrets may be in use) unless --force.
    await writeFile(file, text, { mode: 0o600, flag: values.force ? 'w' : 'wx' })
    await chmod(file, 0o600) // an existing file keeps its mode on overwrite
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new CliError(`${file} exists; its secrets may be in use: choose another --out, or add --force to replace it`, EXIT.cannotCreate)
    throw new CliError(`cannot write ${file} (${code ?? (err as Error).message}); check that its folder exists and is writable`, EXIT.cannotCreate)
  }
  process.stdout.write(`wrote ${file} (mode 0600); point secrets.file at it, or set POPGATE_SECRETS_FILE=${file}\n`)
  return EXIT.ok
}
