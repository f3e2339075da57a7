import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseSettings, settingNames } from '../../src/config.js';

/** The ConfigError `env` produces (the test fails if it parses). */
function configError(env: Record<string, string>): ConfigError {
  try {
    parseSettings(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('the settings were accepted');
}

describe('parseSettings', () => {
  it('defaults every setting that is unset', () => {
    const s = parseSettings({});
    assert.equal(s.AZURE_OPENAI_ENDPOINT, undefined);
    assert.equal(s.AZURE_OPENAI_API_VERSION, '2024-10-21');
    assert.deepEqual(s.AZURE_OPENAI_CHAT_DEPLOYMENTS, ['gpt-4o-mini']);
    assert.deepEqual(s.AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS, ['gpt-35-turbo-instruct']);
    assert.deepEqual(s.AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS, ['text-embedding-3-small']);
    assert.equal(s.UPSTREAM_TIMEOUT_MS, 60_000);
    assert.equal(s.UPSTREAM_MAX_RETRIES, 3);
    assert.equal(s.TRUST_PRINCIPAL_HEADERS, false);
    assert.deepEqual(s.CORS_ALLOWED_ORIGINS, []);
    assert.equal(s.MAX_REQUEST_BODY_BYTES, 4 * 1024 * 1024);
    assert.equal(s.QUOTA_TOKENS_PER_MINUTE, 0);
    assert.equal(s.QUOTA_TOKENS_PER_DAY, 0);
    assert.equal(s.CONVERSATIONS_TABLE_NAME, 'conversations');
    assert.equal(s.CONVERSATIONS_PER_USER, 1000);
  });

  it('ignores variables it does not own', () => {
    const s = parseSettings({ PATH: '/bin', HOME: '/root', FUNCTIONS_WORKER_RUNTIME: 'node' });
    assert.deepEqual(
      Object.keys(s).filter((k) => !(settingNames as string[]).includes(k)),
      [],
    );
  });

  it('treats an empty value as unset, except a deployment list, where empty means none', () => {
    const s = parseSettings({
      UPSTREAM_TIMEOUT_MS: '',
      CORS_ALLOWED_ORIGINS: '',
      AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: '',
    });
    assert.equal(s.UPSTREAM_TIMEOUT_MS, 60_000);
    assert.deepEqual(s.CORS_ALLOWED_ORIGINS, []);
    assert.deepEqual(s.AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS, []);
    assert.deepEqual(s.AZURE_OPENAI_CHAT_DEPLOYMENTS, ['gpt-4o-mini']);
  });

  it('reads comma-separated lists trimmed, without empty items', () => {
    const s = parseSettings({
      AZURE_OPENAI_CHAT_DEPLOYMENTS: ' gpt-4o , ,o3-mini,',
      CORS_ALLOWED_ORIGINS: 'https://a.example',
    });
    assert.deepEqual(s.AZURE_OPENAI_CHAT_DEPLOYMENTS, ['gpt-4o', 'o3-mini']);
    assert.deepEqual(s.CORS_ALLOWED_ORIGINS, ['https://a.example']);
  });

  it('reads booleans as true/false, 1/0, yes/no only', () => {
    for (const [value, expected] of [
      ['true', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ] as const) {
      assert.equal(parseSettings({ TRUST_PRINCIPAL_HEADERS: value }).TRUST_PRINCIPAL_HEADERS, expected, value);
    }
    for (const value of ['TRUE', 'on', 'y']) configError({ TRUST_PRINCIPAL_HEADERS: value });
  });

  it('reads numbers as integers in range', () => {
    assert.equal(parseSettings({ UPSTREAM_TIMEOUT_MS: '1500' }).UPSTREAM_TIMEOUT_MS, 1500);
    assert.equal(parseSettings({ UPSTREAM_MAX_RETRIES: '0' }).UPSTREAM_MAX_RETRIES, 0);
    assert.equal(parseSettings({ QUOTA_TOKENS_PER_DAY: '0' }).QUOTA_TOKENS_PER_DAY, 0);
    for (const value of ['0', '-1', '1.5', 'abc', '1e400']) {
      assert.match(
        configError({ UPSTREAM_TIMEOUT_MS: value }).message,
        /^Invalid configuration: UPSTREAM_TIMEOUT_MS: /,
        value,
      );
    }
    configError({ UPSTREAM_MAX_RETRIES: '-1' });
  });

  it('checks formats: endpoint URLs, API version, table name', () => {
    assert.equal(
      parseSettings({ AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com/' }).AZURE_OPENAI_ENDPOINT,
      'https://x.openai.azure.com/',
    );
    assert.equal(
      parseSettings({ AZURE_OPENAI_API_VERSION: '2025-04-01-preview' }).AZURE_OPENAI_API_VERSION,
      '2025-04-01-preview',
    );
    configError({ AZURE_OPENAI_ENDPOINT: 'x.openai.azure.com' });
    configError({ AZURE_OPENAI_API_VERSION: 'latest' });
    configError({ CONVERSATIONS_TABLE_NAME: 'my-table' });
    configError({ CONVERSATIONS_TABLE_NAME: 'ab' });
  });

  it('names every bad setting and echoes none of their values', () => {
    const secrets = {
      AZURE_OPENAI_ENDPOINT: 'sk-secret-endpoint-value',
      OPENAI_BASE_URL: 'key=sk-secret-base',
      UPSTREAM_TIMEOUT_MS: 'sk-secret-timeout',
      CONVERSATIONS_TABLE_NAME: 'sk-secret-table',
      TRUST_PRINCIPAL_HEADERS: 'sk-secret-bool',
      AZURE_OPENAI_API_VERSION: 'sk-secret-version',
    };
    const { message, name } = configError(secrets);
    assert.equal(name, 'ConfigError');
    for (const setting of Object.keys(secrets))
      assert.ok(message.includes(`${setting}: `), `names ${setting}: ${message}`);
    assert.equal(message.split('; ').length, Object.keys(secrets).length);
    assert.doesNotMatch(message, /sk-secret/);
  });
});
