// The bridge runs in strict mode: reading `.caller` of a strict function
// throws, of a sloppy one it does not.
let bridgeStrict;
try { void window.moat.invoke.caller; bridgeStrict = false; } catch (e) { bridgeStrict = e instanceof TypeError; }
check('the bridge runs in strict mode', bridgeStrict === true, bridgeStrict);

// Content lockdown, in the real webview: CSP hashes and nonces, blocked
// inline styles, <base>, <object>, form posts, foreign scripts, navigation
// away, new windows, permissions. The page is tests/pages/csp.html, served by
// the harness build at app://localhost/__test__/.
const color = (id) => getComputedStyle(document.getElementById(id)).color;
const settle = () => sleep(300);

// Stylesheets may still be loading when the script starts (it starts at
// DOMContentLoaded); the checks below want them applied.
if (document.readyState !== 'complete') await new Promise((r) => window.addEventListener('load', r, { once: true }));

if (harness.load === 1) {
  location.href = 'app://localhost/__test__/csp.html';
} else if (harness.load === 2) {
  check('served inline script runs (its hash is in the policy)', window.inlineRan === true);

  const s = document.createElement('script');
  s.textContent = 'window.injected = true;';
  document.head.appendChild(s);
  await settle();
  check('inline script added at run time does not run', window.injected === undefined);

  check('served <style> applies (nonce)', color('styled') === 'rgb(0, 128, 0)', color('styled'));
  check('served stylesheet applies (nonce)', color('linked') === 'rgb(0, 0, 128)', color('linked'));
  check('inline style= attribute is blocked', color('attr') !== 'rgb(255, 0, 0)', color('attr'));

  const nonce = document.querySelector('style').nonce;
  check('nonce is readable by page script (so it must not outlive the page)', typeof nonce === 'string' && nonce.length >= 16, nonce);
  const plain = document.createElement('style');
  plain.textContent = '#runtime { color: rgb(0, 0, 255); }';
  document.head.appendChild(plain);
  await settle();
  check('style added at run time without nonce does not apply', color('runtime') !== 'rgb(0, 0, 255)', color('runtime'));
  const withNonce = document.createElement('style');
  withNonce.nonce = nonce;
  withNonce.textContent = '#runtime { color: rgb(1, 2, 3); }';
  document.head.appendChild(withNonce);
  await settle();
  check('control: the same style with this load\'s nonce applies', color('runtime') === 'rgb(1, 2, 3)', color('runtime'));
  sessionStorage.setItem('old-nonce', nonce);

  check('<base href> is blocked', document.baseURI.startsWith('app://localhost/'), document.baseURI);
  check('<object> is blocked', window.violations.includes('object-src'), window.violations);

  document.getElementById('form').submit();
  await settle();
  check('form posting elsewhere is blocked', window.violations.includes('form-action') && location.href.endsWith('/__test__/csp.html'), { v: window.violations, at: location.href });

  const ext = document.createElement('script');
  ext.src = 'https://cdn.example/evil.js';
  document.head.appendChild(ext);
  await settle();
  check('script from another origin is blocked', window.violations.some((v) => v.startsWith('script-src')), window.violations);

  window.sentinel = 'still here';
  for (const url of ['http://example.com/', 'https://example.com/', 'file:///etc/passwd', 'ws://localhost/']) {
    try { location.href = url; } catch (e) { /* some are refused synchronously */ }
    await sleep(400);
    check(`navigation to ${url.split(':')[0]}: is refused and the page stays`, window.sentinel === 'still here' && location.protocol === 'app:', location.href);
  }

  const w = window.open('https://example.com/');
  check('window.open is denied', w === null || w === undefined, String(w));
  const w2 = window.open('app://localhost/');
  check('window.open of the app itself is denied too', w2 === null || w2 === undefined, String(w2));

  let perm;
  try {
    perm = await Promise.race([Notification.requestPermission(), sleep(3000).then(() => 'no answer')]);
  } catch (e) { perm = 'threw ' + e.name; }
  check('notification permission is denied', perm === 'denied', perm);
  const geo = await new Promise((res) => {
    navigator.geolocation.getCurrentPosition(() => res('granted'), (e) => res(e.code), { timeout: 3000 });
    setTimeout(() => res('no answer'), 4000);
  });
  check('geolocation is denied by the permission handler', geo === 1, geo);

  location.reload();
} else {
  const old = sessionStorage.getItem('old-nonce');
  const fresh = document.querySelector('style').nonce;
  check('nonce changes on reload', !!old && old !== fresh, { old, fresh });
  const st = document.createElement('style');
  st.nonce = old;
  st.textContent = '#runtime { color: rgb(0, 0, 255); }';
  document.head.appendChild(st);
  await settle();
  check('a nonce from the previous load does not work after reload', color('runtime') !== 'rgb(0, 0, 255)', color('runtime'));
  harness.done();
}
