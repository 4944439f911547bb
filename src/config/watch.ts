// Hot reload triggers: SIGHUP, and changes in the directories holding the
// config, ACL and secrets files. Directories, not files: Kubernetes
// ConfigMaps update by swapping a `..data` symlink, which a file watch on
// the old inode never sees. Events are debounced; the reload itself decides
// whether anything is valid (config/build-state + server.reload).

import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'

export interface ConfigWatcher {
  /** Re-reads the file list (call after a reload: the ACL may have moved). */
  refresh(): void
  close(): void
}

export function watchConfig(files: () => readonly (string | undefined)[], onChange: () => void, debounceMs = 150): ConfigWatcher {
  let timer: NodeJS.Timeout | undefined
  const trigger = () => {
    clearTimeout(timer)
    timer = setTimeout(onChange, debounceMs)
    timer.unref()
  }
  const watchers = new Map<string, FSWatcher>()
  const refresh = () => {
    const dirs = new Set(files().filter((f): f is string => !!f).map((f) => dirname(f)))
    for (const [dir, w] of watchers) if (!dirs.has(dir)) { w.close(); watchers.delete(dir) }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue
      try {
        const w = watch(dir, { persistent: false }, () => trigger())
        w.on('error', () => { w.close(); watchers.delete(dir) })
        watchers.set(dir, w)
      } catch {
        // Directory gone: SIGHUP still works; the next reload re-arms the watch.
      }
    }
  }
  refresh()
  const onHup = () => trigger()
  process.on('SIGHUP', onHup)
  const rearm = setInterval(refresh, 5_000)
  rearm.unref()
  return {
    refresh,
    close() {
      clearTimeout(timer)
      clearInterval(rearm)
      process.off('SIGHUP', onHup)
      for (const w of watchers.values()) w.close()
      watchers.clear()
    },
  }
}
