// The demo as shipped (its own moat.json): the main window opens the
// settings window, whose page shows a call the main window may make
// refused there, and one its allowlist names answered.
const $ = (id) => document.getElementById(id);

async function shown(id, ms = 10000) {
  const until = Date.now() + ms;
  while (!$(id).textContent && Date.now() < until) await sleep(50);
  return $(id).textContent;
}

if (harness.window === 'main') {
  const closed = new Promise((resolve) => window.moat.listen('moat:window-closed', resolve));
  $('open-settings').click();
  const label = (await Promise.race([closed, sleep(30000).then(() => ({ label: 'none' }))])).label;
  check('demo: the settings window opened from the main page, ran and closed', label === 'settings', label);
  // The same call in this window is allowed (the file need not exist).
  let here;
  try { here = await window.moat.fs.readTextFile('$APPDATA/notes.txt'); } catch (e) { here = e.code; }
  check('demo: fs.readTextFile is allowed in the main window', here !== 'not_allowed', here);
  harness.done();
} else if (harness.window === 'settings') {
  $('greet').click();
  const greeted = await shown('greeted');
  check('demo settings: greet is answered', greeted.includes('Hello, settings!'), greeted);
  $('notes').click();
  const refused = await shown('notes-result');
  check('demo settings: fs.readTextFile is refused here with not_allowed', refused.startsWith('not_allowed:'), refused);
  $('close').click();
}
