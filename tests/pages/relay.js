// Loaded (tests only) into an about:blank child of the app's page: a window
// on the app's origin with its own realm, which is neither the isolation
// frame's parent nor the bridge's frame. It does what the page asks, from
// that realm, and answers the page with what happened.
const forged = () => {
  const env = new Uint8Array(80);
  crypto.getRandomValues(env);
  env[0] = 1;
  return env;
};
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

async function transports() {
  const out = { ipc: typeof window.ipc };
  try {
    out.moat = JSON.parse(await window.webkit.messageHandlers.moat.postMessage('moat1:7:' + b64(forged())));
  } catch (e) {
    out.moat = 'error: ' + String(e && e.message || e);
  }
  try {
    out.fetch = await (await fetch('ipc://localhost/', { method: 'POST', body: forged() })).json();
  } catch (e) {
    out.fetch = 'error: ' + String(e && e.message || e);
  }
  window.webkit.messageHandlers.ipc.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned by a child' } }));
  return out;
}

window.addEventListener('message', async (ev) => {
  if (ev.source !== parent || !ev.data || !ev.data.relay) return;
  const m = ev.data;
  if (m.relay === 'transports') {
    parent.postMessage({ relayed: 'transports', result: await transports() }, '*');
    return;
  }
  const target = m.relay === 'frame' ? parent.document.querySelector('iframe[sandbox]').contentWindow : parent;
  for (const message of m.messages) target.postMessage(message, '*');
  parent.postMessage({ relayed: m.relay, count: m.messages.length }, '*');
});
parent.postMessage({ relayed: 'ready' }, '*');
