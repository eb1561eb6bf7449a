// A test hook (hooks/__test__/), asynchronous and first in its chain: it
// awaits before deciding, so the tests can show that an async hook's
// rejection and rewrite count like a sync one's, and that the hooks after
// it judge what it returned.
export default async function chain({ cmd, args }) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  await crypto.subtle.digest('SHA-256', new TextEncoder().encode(cmd));
  if (cmd !== 'echo' || typeof args.data !== 'string') return undefined;
  if (args.data === 'async-reject') throw new Error('chain: rejected after an await');
  if (args.data === 'async-false') return false;
  if (args.data.startsWith('rewrite:')) return { cmd, args: { data: 'chain saw ' + args.data.slice(8) } };
  if (args.data.startsWith('to-report:')) return { cmd: 'write_report', args: { contents: args.data.slice(10) } };
  return undefined;
}
