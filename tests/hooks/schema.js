// A hook that validates each command's arguments with a library, the
// README's way: valibot's ESM build copied into the hooks folder
// (vendor/valibot.js, with its licence) and imported by a relative path.
import * as v from './vendor/valibot.js';

const schemas = {
  greet: v.strictObject({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(40)) }),
  echo: v.strictObject({ data: v.string() }),
};

export default function schema({ cmd, args }) {
  if (!Object.hasOwn(schemas, cmd)) throw new Error(`schema: no schema for ${cmd}`);
  const result = v.safeParse(schemas[cmd], args);
  if (!result.success) {
    const issues = result.issues.map((i) => `${v.getDotPath(i) ?? 'args'}: ${i.message}`);
    throw new Error(`schema: ${cmd}: ${issues.join('; ')}`);
  }
}
