// The page talks to Rust only through window.moat.invoke, which Moat
// defines before this script runs.
const { invoke } = window.moat;
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

// Another window, declared in moat.json with only what it needs.
$('about').addEventListener('click', () => invoke('window.open', { label: 'about' }));
