// A page whose web process keeps dying: the Rust test kills it on every
// load. After three crashes within ten seconds the app stops reloading and
// shows its built-in error page, where this script finds no bridge.
if (location.protocol === 'app:') {
  check('ready for crash', true, harness.load);
  await sleep(30000);
}
