/**
 * @ca-shark/cli: the `ca-shark` command (bin: dist/main.js). The library surface is what other tools may
 * want to reuse: running the program in-process, and the caproto-style line rendering.
 */
export { run, version, EXIT_OK, EXIT_NOTHING, EXIT_BAD_INPUT, EXIT_DAMAGED, type CliIO } from './run.js';
export { parseCommandLine, UsageError, HELP, type CliOptions } from './args.js';
export {
  compileTemplate,
  TemplateError,
  DEFAULT_TEMPLATE,
  TOKENS,
  type CompiledTemplate,
  type TemplateRecord,
} from './template.js';
export { renderCommand, renderLink, renderIp, renderTransport, caprotoField, type CommandLike } from './render.js';
export { pyFloat, pyRepr, pyStr, pyString } from './pyrepr.js';
export { useColor, palette, type ColorMode, type Palette } from './color.js';
