// The network from page script (T.port: a server that records every
// request; T.mode: "nonce" under the default policy, "mistakes" under an
// app policy that allows any host). Nothing may reach the server but what
// the config names; the Rust test reads the server's log.
const base = `http://127.0.0.1:${T.port}`;
const other = `http://localhost:${T.port}`;

/** Adds `el` and waits for its load or error (or 1.5 s). */
function probe(el) {
  return new Promise((resolve) => {
    const done = (what) => () => resolve(what);
    el.addEventListener('load', done('load'));
    el.addEventListener('error', done('error'));
    setTimeout(done('timeout'), 1500);
    document.head.append(el);
  });
}

function element(tag, attrs) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'nonce') el.nonce = v; else el.setAttribute(k, v);
  }
  return el;
}

const settle = (p) => Promise.race([p.then(() => 'ok', (e) => 'refused: ' + (e && e.name)), sleep(1500).then(() => 'timeout')]);

if (T.mode === 'nonce') {
  const meta = document.querySelector('meta[property="csp-nonce"]');
  const nonce = meta.nonce;
  check('nonce: page script can read it (CSS-in-JS needs it)', typeof nonce === 'string' && nonce.length >= 16, nonce);
  // Each way a readable nonce opened the network before.
  window.__ran = [];
  const tries = {
    'a nonced <script src>': element('script', { nonce, src: `${base}/pub/nonce-script.js` }),
    'a nonced <link rel=stylesheet>': element('link', { nonce, rel: 'stylesheet', href: `${base}/pub/nonce-style.css` }),
    'a nonced <link rel=preload as=script>': element('link', { nonce, rel: 'preload', as: 'script', href: `${base}/pub/nonce-preload.js` }),
    'a nonced <link rel=modulepreload>': element('link', { nonce, rel: 'modulepreload', href: `${base}/pub/nonce-modulepreload.js` }),
  };
  for (const [what, el] of Object.entries(tries)) {
    const got = await probe(el);
    check(`nonce: ${what} loads nothing`, got !== 'load', got);
  }
  // A nonced inline module that imports from elsewhere: the nonce does not
  // run it, and its import never starts.
  const inline = element('script', { nonce, type: 'module' });
  inline.textContent = `window.__ran.push('inline'); import('${base}/pub/nonce-import.js');`;
  document.head.append(inline);
  await sleep(500);
  check('nonce: a nonced inline script does not run', window.__ran.length === 0, window.__ran);
  // CSS-in-JS keeps working under the strict policy.
  const style = element('style', { nonce });
  style.textContent = 'body { outline: 3px solid rgb(7, 6, 5); }';
  document.head.append(style);
  await sleep(50);
  check('nonce: a nonced <style> still applies', getComputedStyle(document.body).outlineColor === 'rgb(7, 6, 5)', getComputedStyle(document.body).outlineColor);
  // The nonce is where CSS cannot read it.
  check('nonce: no content attribute carries it', !meta.hasAttribute('content'), meta.outerHTML);
  check('nonce: CSS selectors do not see it', meta.getAttribute('nonce') === '' && !document.querySelector(`meta[nonce="${nonce}"]`) && !document.querySelector(`[nonce^="${nonce.slice(0, 4)}"]`));
} else {
  // The app's policy allows any host (a mistake); only 127.0.0.1:port is
  // named in it. The filter under the policy holds for everything else.
  const ok = await probe(element('img', { src: `${base}/pub/declared.png` }));
  check('mistakes: a host the config names is reached', ok === 'error' || ok === 'load', ok);
  const tries = {
    'an <img> from a host it does not name': element('img', { src: `${other}/pub/leak-img.png` }),
    'a <script src> allowed by `script-src http:`': element('script', { src: `${other}/pub/leak-script.js` }),
    'a stylesheet allowed by `style-src *`': element('link', { rel: 'stylesheet', href: `${other}/pub/leak-style.css` }),
    'an <audio> allowed by `media-src *`': element('audio', { src: `${other}/pub/leak-audio.ogg`, preload: 'auto' }),
  };
  for (const [what, el] of Object.entries(tries)) {
    const got = await probe(el);
    check(`mistakes: ${what} loads nothing`, got !== 'load', got);
  }
  check('mistakes: fetch allowed by `connect-src *` reaches nothing', (await settle(fetch(`${other}/pub/leak-fetch`))) !== 'ok');
  check('mistakes: an XHR reaches nothing', await new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', `${other}/pub/leak-xhr`);
    x.onload = () => resolve(false);
    x.onerror = () => resolve(true);
    x.send();
    setTimeout(() => resolve(true), 1500);
  }));
  check('mistakes: a WebSocket reaches nothing', await new Promise((resolve) => {
    let ws;
    try { ws = new WebSocket(`ws://localhost:${T.port}/pub/leak-ws`); } catch (e) { resolve(true); return; }
    ws.onopen = () => resolve(false);
    ws.onerror = () => resolve(true);
    setTimeout(() => resolve(true), 1500);
  }));
  check('mistakes: an EventSource reaches nothing', await new Promise((resolve) => {
    const es = new EventSource(`${other}/pub/leak-sse`);
    es.onopen = () => resolve(false);
    es.onerror = () => { es.close(); resolve(true); };
    setTimeout(() => { es.close(); resolve(true); }, 1500);
  }));
  let beacon = null;
  try { beacon = navigator.sendBeacon(`${other}/pub/leak-beacon`, 'x'); } catch (e) { beacon = 'threw'; }
  check('mistakes: sendBeacon is tried', beacon !== null, beacon);
  const worker = new Worker(URL.createObjectURL(new Blob([`fetch('${other}/pub/leak-worker').then(() => postMessage('ok'), () => postMessage('refused'))`], { type: 'text/javascript' })));
  const fromWorker = await Promise.race([new Promise((r) => { worker.onmessage = (e) => r(e.data); worker.onerror = () => r('no worker'); }), sleep(1500).then(() => 'timeout')]);
  check('mistakes: a worker\'s fetch reaches nothing', fromWorker !== 'ok', fromWorker);
}
await sleep(700); // anything still on its way reaches the server now
harness.done();
