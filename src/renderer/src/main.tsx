import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { boot } from './boot'
import { App } from './components/App'
import './styles.css'

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
void boot()
