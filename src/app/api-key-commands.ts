import { InvalidArgumentError, type Command } from 'commander';
import { apiKeyEntry, generateApiKey, hashApiKey } from '../auth/api-keys.ts';

// The API key commands of the sentiment-fleet CLI: new-api-key, hash-api-key. Neither needs Redis
// or any setting; keys are never taken from the command line (shell history, ps).

type ScopeText = 'read' | 'write' | 'read+write';

function scopes(value: string): ScopeText {
  if (value === 'read' || value === 'write' || value === 'read+write') return value;
  throw new InvalidArgumentError('must be read, write or read+write');
}

function keyName(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value))
    throw new InvalidArgumentError("must be 1-64 letters, digits, '_', '.' or '-'");
  return value;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** `new-api-key --name shop --scopes write`: a random key (give it to the client) and its API_KEYS entry (give it to the service). */
export function defineNewApiKeyCommand(command: Command, out: NodeJS.WritableStream = process.stdout): Command {
  return command
    .description(
      'generate an API key: prints the key (for the client, shown once) and its hashed API_KEYS entry (for the services)',
    )
    .requiredOption('--name <name>', 'key name: shown in logs, and the rate-limit bucket', keyName)
    .option('--scopes <scopes>', 'read, write or read+write', scopes, 'read' as ScopeText)
    .action((opts: { name: string; scopes: ScopeText }) => {
      const key = generateApiKey();
      out.write(`key:      ${key}\nAPI_KEYS: ${apiKeyEntry(opts.name, opts.scopes, key)}\n`);
    });
}

/** `hash-api-key < key.txt`: the SHA-256 of a key read from stdin (one trailing newline ignored). */
export function defineHashApiKeyCommand(
  command: Command,
  stdin: NodeJS.ReadableStream = process.stdin,
  out: NodeJS.WritableStream = process.stdout,
): Command {
  return command
    .description('print the SHA-256 of an API key read from stdin, for an API_KEYS entry (name:scopes:<this>)')
    .action(async () => {
      const key = await readStdin(stdin);
      if (key === '') throw new InvalidArgumentError('no key on stdin');
      out.write(`${hashApiKey(key)}\n`);
    });
}
