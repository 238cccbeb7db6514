import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  apiKeyEntry,
  findApiKey,
  generateApiKey,
  hashApiKey,
  parseApiKeys,
  presentedApiKey,
} from '../../src/auth/api-keys.ts';
import { requiredScope } from '../../src/auth/http-auth.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { isSfError } from '../../src/errors/sf-error.ts';

const sha = (key: string) => createHash('sha256').update(key).digest('hex');

describe('API keys', () => {
  it('hashes a key as SHA-256 hex, the same as `printf %s key | sha256sum`', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = generateApiKey();
    expect(key).toMatch(/^sfk_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
    expect(apiKeyEntry('shop', 'write', key)).toBe(`shop:write:${sha(key)}`);
  });

  it('parses name:scopes:sha256hex[:perMinute] entries', () => {
    const { keys, problems } = parseApiKeys(
      ` shop:write:${sha('k1')}, dash:read:${sha('k2').toUpperCase()}:60 ,ops:read+write:${sha('k3')}`,
    );
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.name, [...k.scopes].sort(), k.ratePerMin])).toEqual([
      ['shop', ['write'], undefined],
      ['dash', ['read'], 60],
      ['ops', ['read', 'write'], undefined],
    ]);
    expect(keys[1]!.digest.toString('hex')).toBe(sha('k2'));
  });

  it('reports every malformed entry by position and name, never accepting part of the list', () => {
    const { keys, problems } = parseApiKeys(
      `a:write:${sha('x')},b:admin:${sha('y')},c:read:not-a-hash,d:read,a:read:${sha('z')},e f:read:${sha('w')},g:read:${sha('v')}:-1`,
    );
    expect(keys).toEqual([]);
    expect(problems).toEqual([
      'entry 2 (b): scopes must be read, write or read+write',
      'entry 3 (c): the key must be given as its SHA-256, 64 hex digits (sentiment-fleet hash-api-key)',
      'entry 4: expected name:scopes:sha256hex[:perMinute] (2 field(s))',
      'entry 5: name "a" is used twice',
      "entry 6: name must be 1-64 letters, digits, '_', '.' or '-'",
      'entry 7 (g): perMinute must be a whole number ≥ 0',
    ]);
    expect(parseApiKeys(' , ').problems).toEqual(['no entries (unset API_KEYS to turn authentication off)']);
  });

  it('finds the key a request presents, and nothing for an unknown, empty or prefix key', () => {
    const { keys } = parseApiKeys(`shop:write:${sha('secret-1')},dash:read:${sha('secret-2')}`);
    expect(findApiKey(keys, 'secret-2')?.name).toBe('dash');
    expect(findApiKey(keys, 'secret-1')?.name).toBe('shop');
    expect(findApiKey(keys, 'secret-')).toBeUndefined();
    expect(findApiKey(keys, '')).toBeUndefined();
    expect(findApiKey(keys, sha('secret-1'))).toBeUndefined(); // the stored digest is not a key
    expect(findApiKey([], 'secret-1')).toBeUndefined();
  });

  it('reads the key from Bearer, x-api-key or Basic (password part)', () => {
    expect(presentedApiKey({ authorization: 'Bearer k1' })).toBe('k1');
    expect(presentedApiKey({ authorization: 'bearer   k1 ' })).toBe('k1');
    expect(presentedApiKey({ 'x-api-key': 'k2' })).toBe('k2');
    expect(presentedApiKey({ authorization: `Basic ${Buffer.from('anyone:k3').toString('base64')}` })).toBe('k3');
    expect(presentedApiKey({ authorization: `Basic ${Buffer.from('k3').toString('base64')}` })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Bearer' })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Token k1' })).toBeUndefined();
    expect(presentedApiKey({})).toBeUndefined();
  });

  it('needs read for GET/HEAD and write for everything else', () => {
    expect(['GET', 'HEAD', 'OPTIONS'].map(requiredScope)).toEqual(['read', 'read', 'read']);
    expect(['POST', 'PUT', 'PATCH', 'DELETE'].map(requiredScope)).toEqual(['write', 'write', 'write', 'write']);
  });
});

describe('API_KEYS and RATE_LIMIT_PER_MIN settings', () => {
  it('turn authentication on, with a default limit of 1200 per minute per key', () => {
    const config = loadConfig({ API_KEYS: `shop:write:${sha('k')}` });
    expect(config.auth.apiKeys.map((k) => k.name)).toEqual(['shop']);
    expect(config.auth.ratePerMin).toBe(1200);
    expect(loadConfig({ API_KEYS: `shop:write:${sha('k')}`, RATE_LIMIT_PER_MIN: '0' }).auth.ratePerMin).toBe(0);
    expect(loadConfig({}).auth).toEqual({ apiKeys: [], ratePerMin: 0, allowUnauthenticated: false });
    expect(loadConfig({ RATE_LIMIT_PER_MIN: '30' }).auth).toEqual({
      apiKeys: [],
      ratePerMin: 30,
      allowUnauthenticated: false,
    });
  });

  it('refuse a malformed list at start-up, naming the setting and not echoing the value', () => {
    let error: unknown;
    try {
      loadConfig({ API_KEYS: 'shop:write:plaintext-secret-key' });
    } catch (err) {
      error = err;
    }
    expect(isSfError(error, 'SF_ERR_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/API_KEYS: entry 1 \(shop\): the key must be given as its SHA-256/);
    expect((error as Error).message).not.toContain('plaintext-secret-key');
  });
});
