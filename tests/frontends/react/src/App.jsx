import { lazy, Suspense, useEffect, useState } from 'react'
import styled from 'styled-components'
import reactLogo from './assets/react.svg'
import './App.css'
import './moat.css'

const Lazy = lazy(() => import('./Lazy.jsx'))

// CSS-in-JS: styled-components injects a <style> at run time.
const Styled = styled.p`
  color: rgb(4, 5, 6);
`

function App() {
  const [greeting, setGreeting] = useState('…')
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    window.moat.invoke('greet', { name: 'React' }).then(setGreeting, (e) => setGreeting(`error: ${e.code}`))
  }, [])
  const go = () => {
    history.pushState(null, '', '/settings/profile')
    setPath(location.pathname)
  }
  return (
    <>
      <img id="logo" src={reactLogo} className="logo react" alt="React logo" />
      <h1>Vite + React under Moat</h1>
      <p id="greeting">{greeting}</p>
      <Styled id="styled">styled-components</Styled>
      <p id="font-probe">Moat</p>
      <p id="route">{path}</p>
      <button id="go" onClick={go}>/settings/profile</button>
      <Suspense fallback={<p>loading…</p>}>
        <Lazy />
      </Suspense>
    </>
  )
}

export default App
