import './Lazy.css'

export default function Lazy() {
  return <p id="lazy" className="lazy-box">lazy chunk</p>
}
