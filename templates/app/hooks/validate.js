// The app's isolation hook. It runs inside Moat's isolation frame on every
// call (the page's and an attacker's alike) before anything is encrypted.
// Return nothing to let a call through, a new {cmd, args} to rewrite it,
// or throw (or return false) to refuse it: the caller gets
// `rejected_by_hook` with the message. See "Writing a hook" in Moat's
// docs/guide.md.

/** @type {import('{{MOAT}}/isolation-js/hook').Hook} */
export default function validate({ cmd, args }) {
  if (cmd === 'greet') {
    const name = typeof args.name === 'string' ? args.name.trim() : '';
    if (name.length === 0 || name.length > 40) throw new Error('greet: a name of 1 to 40 characters, please');
    return { cmd, args: { name } };
  }
  return undefined;
}
