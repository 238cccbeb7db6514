/**
 * A Redis URL for a message or a log: its password replaced by `***` (the user name stays). The
 * password runs from the first `:` after `//` to the last `@` before the host, so a password with
 * an unescaped `@` or `/` in it is hidden whole; text that is not a URL is shown as it is.
 */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/]*):(.*)@([^@]*)$/i, '$1$2:***@$4');
}
