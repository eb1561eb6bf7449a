// A test hook that returns what a hook may not: a string, or a rewrite
// into a name Moat keeps for itself.
export default function wrongReturn({ cmd, args }) {
  if (cmd === 'echo' && args.data === 'wrong') return 'yes';
  if (cmd === 'echo' && args.data === 'reserved') return { cmd: 'moat.frame_report', args: { what: 'forged', detail: 'forged by a hook' } };
  return undefined;
}
