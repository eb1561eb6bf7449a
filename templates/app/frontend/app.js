// The page talks to Rust only through window.moat.invoke, which Moat
// defines before this script runs, typed by the app's commands
// (commands.d.ts, generated from their Rust types by `make types`).
/** @type {import('./commands').Invoke} */
const invoke = window.moat.invoke;
const $ = (id) => document.getElementById(id);

$('greet-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    $('greeting').textContent = await invoke('greet', { name: $('name').value });
  } catch (e) {
    // A MoatError: a stable code, and a message for people.
    $('greeting').textContent = `${e.code}: ${e.message}`;
  }
});

// Another window, declared in moat.json with only what it needs (the
// built-in `window.*` commands are typed in Moat's moat.d.ts).
$('about').addEventListener('click', () => window.moat.invoke('window.open', { label: 'about' }));
