// The settings window's page: the same bridge as the main window's, with
// its own frame and key, and the allowlist of windows.settings.

const { invoke, fs } = window.moat;
const $ = (id) => document.getElementById(id);

async function show(id, promise) {
  try {
    $(id).textContent = `ok: ${JSON.stringify(await promise)}`;
    $(id).className = 'ok';
  } catch (e) {
    $(id).textContent = `${e.code}: ${e.message}`;
    $(id).className = 'err';
  }
}

window.moat.ready.then(
  () => { $('status').textContent = 'isolation frame ready'; },
  (e) => { $('status').textContent = `isolation unavailable (${e.code})`; },
);
$('greet').addEventListener('click', () => show('greeted', invoke('greet', { name: 'settings' })));
$('notes').addEventListener('click', () => show('notes-result', fs.readTextFile('$APPDATA/notes.txt')));
$('open-docs').addEventListener('click', () => show('open-result', invoke('window.open', { label: 'docs' })));
$('close').addEventListener('click', () => invoke('window.close'));
