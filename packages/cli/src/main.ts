// `ca-shark` run from its TypeScript sources (`node --import tsx src/main.ts`, as the daemon's tests compare
// the two programs), or from tsc's output. The installed bin (dist/main.js, from scripts/bin.mjs) runs the
// bundled program.ts instead, from V8's code cache of it.
import { main } from './program.js';

main(process.argv.slice(2));
