import { useEffect, useState } from 'react'
import { api } from '../api'
import { attempt } from '../boot'
import { appStore } from '../store/hooks'
import { ROW_DRAG_TYPE } from './QueueRow'

function hasFiles(e: DragEvent): boolean {
  const types = e.dataTransfer?.types
  return !!types && types.includes('Files') && !types.includes(ROW_DRAG_TYPE)
}

/**
 * The whole window takes drops of files and folders. The page hands the drop's File objects to the
 * preload, which asks Electron for their paths (the page never sees or names one), and main
 * checks each path again before reading anything.
 */
export function DropZone({ enabled }: { enabled: boolean }): React.JSX.Element | null {
  const [over, setOver] = useState(false)
  useEffect(() => {
    let depth = 0
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return
      e.preventDefault()
      depth++
      setOver(true)
    }
    const overFn = (e: DragEvent) => {
      if (!hasFiles(e)) return
      // Without preventDefault the browser would navigate to the dropped file.
      e.preventDefault()
      if (e.dataTransfer) e.dataTransfer.dropEffect = enabled ? 'copy' : 'none'
    }
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) setOver(false)
    }
    const drop = (e: DragEvent) => {
      if (!e.dataTransfer || !e.dataTransfer.types.includes('Files')) return
      e.preventDefault()
      depth = 0
      setOver(false)
      if (!enabled) {
        appStore.toast({ kind: 'error', message: 'Set up where uploads go first (Settings).' })
        return
      }
      const files = [...e.dataTransfer.files]
      if (files.length === 0) return
      void attempt(() => api.addDropped(files)).then((r) => appStore.reportAdd(r ?? null))
    }
    window.addEventListener('dragenter', enter)
    window.addEventListener('dragover', overFn)
    window.addEventListener('dragleave', leave)
    window.addEventListener('drop', drop)
    return () => {
      window.removeEventListener('dragenter', enter)
      window.removeEventListener('dragover', overFn)
      window.removeEventListener('dragleave', leave)
      window.removeEventListener('drop', drop)
    }
  }, [enabled])
  if (!over) return null
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-card">{enabled ? 'Drop to upload' : 'Set up a destination first'}</div>
    </div>
  )
}
