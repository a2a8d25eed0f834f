import { appStore, useApp } from '../store/hooks'

export function Toasts(): React.JSX.Element {
  const { toasts } = useApp()
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span>{t.message}</span>
          <button
            type="button"
            className="toast-close"
            aria-label="Dismiss"
            onClick={() => appStore.dismissToast(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
