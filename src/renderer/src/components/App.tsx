import { useApp } from '../store/hooks'
import { DropZone } from './DropZone'
import { DuplicateDialog } from './DuplicateDialog'
import { Header } from './Header'
import { HistoryView } from './HistoryView'
import { Queue } from './Queue'
import { ResumeBanner } from './ResumeBanner'
import { SettingsPanel } from './SettingsPanel'
import { SettingsProblemsBanner } from './SettingsProblemsBanner'
import { SetupScreen } from './SetupScreen'
import { Toasts } from './Toasts'

export function App(): React.JSX.Element {
  const app = useApp()
  if (app.destination === undefined) {
    return <div className="loading" data-testid="loading" aria-busy="true" />
  }
  if (app.destination === null && app.view !== 'settings') {
    return (
      <div className="app" data-testid="app" data-ready="true" data-view="setup">
        <SetupScreen />
        <DropZone enabled={false} />
        <Toasts />
      </div>
    )
  }
  return (
    <div className="app" data-testid="app" data-ready="true" data-view={app.view}>
      <Header />
      <SettingsProblemsBanner />
      <ResumeBanner />
      <main id="main-panel" className="panel" role="tabpanel" aria-labelledby={`tab-${app.view}`}>
        {app.view === 'queue' && <Queue />}
        {app.view === 'history' && <HistoryView />}
        {app.view === 'settings' && <SettingsPanel />}
      </main>
      <DropZone enabled={app.destination !== null} />
      <DuplicateDialog />
      <Toasts />
    </div>
  )
}
