// The settings window's page: the same bridge as the main window's, with
// its own frame and key, and the allowlist of windows.settings.

const { invoke, fs, store, secrets } = window.moat;
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

// The theme: read from the store when the page loads, saved on demand.
window.moat.ready.then(async () => {
  const theme = await store.get('settings.theme').catch(() => null);
  if (theme) $('theme').value = theme;
  $('theme').dataset.loaded = theme || 'none';
  // Whether a token is saved (its length only: the page never shows it).
  await show('token-result', secrets.get('apiToken').then((t) => (t === null ? 'no token saved' : `a token of ${t.length} characters is saved`)));
});
$('save-theme').addEventListener('click', () => show('theme-result', store.set('settings.theme', $('theme').value)));
$('save-token').addEventListener('click', () => {
  const token = $('token').value;
  $('token').value = '';
  show('token-result', secrets.set('apiToken', token).then(() => `a token of ${token.length} characters is saved`));
});
$('forget-token').addEventListener('click', () => show('token-result', secrets.delete('apiToken').then((was) => (was ? 'forgotten' : 'no token saved'))));
