// Hot reload triggers: SIGHUP, and a change to one of the files the config
// reads (config, ACL, secrets, TLS certificate and key) — those files only.
// A log written next to the config must not cause reloads.
//
// Directories are watched, not files: Kubernetes ConfigMaps update by
// renaming a new `..data` symlink over the old one, which a watch on the old
// file's inode never sees. An event counts only when it names one of the
// watched basenames or `..data`, and even then a reload happens only when a
// file's content actually changed (a SHA-256 of each file is kept), so
// editors' temp files, `touch` and repeated events reload nothing. The
// symlink target's own folder is watched too (a config that is a symlink to a
// file elsewhere). A slow re-scan every few seconds re-arms watches on
// folders that came back and catches an event the OS dropped.
//
// onChange gets the reason the reload line logs: "SIGHUP", or
// "file changed: <path>[, <path>]".

import { watch, readFileSync, realpathSync, type FSWatcher } from 'node:fs'
import { createHash } from 'node:crypto'
import { basename, dirname } from 'node:path'

export interface ConfigWatcher {
  /** Re-reads the file list (call after a reload: the ACL may have moved). */
  refresh(): void
  close(): void
}

const RESCAN_MS = 5_000

/** What a file holds, or why it cannot be read: equal strings mean "no change". */
function fingerprint(file: string): string {
  try { return createHash('sha256').update(readFileSync(file)).digest('base64url') } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`
  }
}

export function watchConfig(files: () => readonly (string | undefined)[], onChange: (reason: string) => void, debounceMs = 150): ConfigWatcher {
  const list = () => [...new Set(files().filter((f): f is string => !!f))]
  /** directory → basenames whose events count */
  let targets = new Map<string, Set<string>>()
  const watchers = new Map<string, FSWatcher>()
  const seen = new Map<string, string>() // file → fingerprint at the last reload or scan
  let hup = false
  let timer: NodeJS.Timeout | undefined

  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(run, debounceMs)
    timer.unref()
  }

  /** Files whose content differs from what was last seen (and remembers the new content). */
  const changedFiles = (): string[] => {
    const changed: string[] = []
    for (const f of list()) {
      const now = fingerprint(f)
      const before = seen.get(f)
      if (before !== undefined && before !== now) changed.push(f)
      seen.set(f, now)
    }
    return changed
  }

  function run(): void {
    const changed = changedFiles()
    if (hup) { hup = false; onChange('SIGHUP') } else if (changed.length > 0) onChange(`file changed: ${changed.join(', ')}`)
    refresh() // a symlink swap moves the real file: follow it
  }

  function refresh(): void {
    const want = new Map<string, Set<string>>()
    const add = (dir: string, name: string) => {
      const names = want.get(dir) ?? new Set<string>()
      names.add(name)
      want.set(dir, names)
    }
    const current = list()
    for (const f of current) {
      add(dirname(f), basename(f))
      add(dirname(f), '..data') // the ConfigMap swap
      try {
        const real = realpathSync(f)
        if (real !== f) add(dirname(real), basename(real))
      } catch { /* missing now: the folder watch sees it come back */ }
      if (!seen.has(f)) seen.set(f, fingerprint(f)) // new in the list: what was just loaded
    }
    for (const f of seen.keys()) if (!current.includes(f)) seen.delete(f)
    targets = want
    for (const [dir, w] of watchers) if (!want.has(dir)) { w.close(); watchers.delete(dir) }
    for (const dir of want.keys()) {
      if (watchers.has(dir)) continue
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          // No name (some platforms): cannot tell, so look at the files.
          if (name == null || targets.get(dir)?.has(String(name))) schedule()
        })
        w.on('error', () => { w.close(); watchers.delete(dir) })
        watchers.set(dir, w)
      } catch {
        // Folder gone: SIGHUP still works; the re-scan re-arms the watch.
      }
    }
  }

  refresh()
  const onHup = () => { hup = true; schedule() }
  process.on('SIGHUP', onHup)
  const rescan = setInterval(() => {
    refresh()
    if (list().some((f) => fingerprint(f) !== seen.get(f))) schedule()
  }, RESCAN_MS)
  rescan.unref()
  return {
    refresh,
    close() {
      clearTimeout(timer)
      clearInterval(rescan)
      process.off('SIGHUP', onHup)
      for (const w of watchers.values()) w.close()
      watchers.clear()
    },
  }
}
