// The demo's isolation hook. It runs inside the isolation frame for every
// call, the page's and an attacker's alike, before anything is encrypted.
//
// A hook gets {cmd, args} and a context ({window, origin}); it may return the
// payload unchanged (or nothing), return a rewritten {cmd, args}, or reject
// the call by throwing, returning false, or rejecting its promise. A rejected
// call never reaches Rust; the caller gets code "rejected_by_hook" and this
// hook's message.

const MAX_REPORT_BYTES = 64 * 1024;

export default function validate({ cmd, args }, ctx) {
  // ctx.window is the label of the window whose frame runs this hook (the
  // core decides it too, from the webview the call arrived on).
  if (ctx.window !== 'main' && ctx.window !== 'settings') {
    throw new Error(`calls are only accepted from the demo's windows, not ${ctx.window}`);
  }

  if (cmd === 'write_report') {
    const contents = args && args.contents;
    if (typeof contents !== 'string') throw new Error('write_report: contents must be a string');
    if (new TextEncoder().encode(contents).length > MAX_REPORT_BYTES) {
      throw new Error('write_report: contents over 64 KiB');
    }
    if (contents.includes('\0')) throw new Error('write_report: contents contain a NUL character');
  }

  if (cmd === 'greet') {
    // A rewrite: names are trimmed before Rust sees them.
    if (typeof args?.name === 'string') return { cmd, args: { ...args, name: args.name.trim() } };
  }

  if (cmd === 'forbidden') return false;

  return undefined;
}
