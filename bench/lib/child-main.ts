// The child side of a bench server process: start, tell the parent the port
// over IPC, and exit cleanly when told to (a clean exit is what lets
// --cpu-prof write its profile).

export interface Started {
  readonly port: number
  close(): Promise<void>
}

export function serveChild(start: (args: readonly string[]) => Promise<Started>): void {
  if (!process.send) throw new Error('bench server scripts run as forked children (bench/run.js starts them)')
  start(process.argv.slice(2)).then((s) => {
    let stopping = false
    const stop = () => {
      if (stopping) return
      stopping = true
      const hard = setTimeout(() => process.exit(0), 3000)
      hard.unref()
      void s.close().finally(() => process.exit(0))
    }
    process.on('message', (m) => { if (m === 'stop') stop() })
    process.on('disconnect', stop) // the parent died: do not linger
    process.send!({ ready: true, port: s.port })
  }, (err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
