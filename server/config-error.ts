/** A configuration gopsd cannot start with. The message is one line naming the key (or file) at fault. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
