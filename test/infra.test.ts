/**
 * What can be checked of the Azure deployment without Azure or a Bicep compiler: settings in step with the
 * code, every role the code needs, no secrets, and the config files against what their schemas require.
 * Only a real `azd up` proves the templates deploy (see README, "Deploy to Azure").
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse as parseYaml } from 'yaml';
import { settingNames } from '../src/config.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const bicepFiles = ['infra/main.bicep', ...readdirSync(new URL('infra/modules/', root)).map((f) => `infra/modules/${f}`)];
const allBicep = bicepFiles.map(read).join('\n');

/** Settings that exist for local development only and are deliberately not set in Azure. */
const LOCAL_ONLY = new Set([
  'AZURE_OPENAI_API_KEY', // Azure uses managed identity; keys are disabled on the account
  'OPENAI_BASE_URL', // another OpenAI-compatible upstream (e.g. Ollama), a local alternative
  'OPENAI_API_KEY',
  'AZURE_STORAGE_CONNECTION_STRING', // Azurite; Azure uses AZURE_STORAGE_TABLE_ENDPOINT + identity
  'CONVERSATION_CONTEXT_TOKENS', // a test/tuning override of the model's context window
  'CORS_ALLOW_LOOPBACK', // `npm start` allows pages on this machine; Azure allows only CORS_ALLOWED_ORIGINS
]);

/** The keys of the `appSettings: { … }` object passed to the function app module in main.bicep. */
function bicepAppSettings(): string[] {
  const main = read('infra/main.bicep');
  const start = main.indexOf('appSettings: {');
  assert.ok(start > 0, 'main.bicep passes appSettings');
  const end = main.indexOf('\n    }', start);
  return [...main.slice(start, end).matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

describe('infra: settings', () => {
  it('sets every setting the app reads in Azure, and nothing the app does not read', () => {
    const inBicep = new Set(bicepAppSettings());
    const expected = settingNames.filter((name) => !LOCAL_ONLY.has(name));
    for (const name of expected) assert.ok(inBicep.has(name), `${name} is read by src/config.ts but not set in infra/main.bicep`);
    for (const name of inBicep) assert.ok((settingNames as string[]).includes(name), `${name} is set in Azure but src/config.ts does not read it`);
    for (const name of LOCAL_ONLY) assert.ok((settingNames as string[]).includes(name), `${name} is listed as local-only but no longer exists`);
  });

  it('local.settings.sample.json lists every setting, as strings, for the node worker', () => {
    const sample = JSON.parse(read('local.settings.sample.json'));
    assert.equal(sample.IsEncrypted, false);
    assert.equal(sample.Values.FUNCTIONS_WORKER_RUNTIME, 'node');
    for (const value of Object.values(sample.Values)) assert.equal(typeof value, 'string');
    for (const name of settingNames) assert.ok(name in sample.Values, `${name} missing from local.settings.sample.json`);
  });
});

describe('infra: identity and roles', () => {
  // What the code does in Azure → the role that allows exactly that, on the resource it touches.
  const needed: [string, string, string][] = [
    ['call Azure OpenAI (src/openai)', '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd', 'openai'],
    ['read/write conversations (src/conversations)', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', 'storage'],
    ['Functions host storage + deployment package', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'storage'],
    ['telemetry to App Insights without keys', '3913510d-42f4-4e42-8a64-420c390055eb', 'appInsights'],
  ];
  const roles = read('infra/modules/roles.bicep');
  for (const [why, roleId, scope] of needed) {
    it(`assigns ${roleId} (${why}) on ${scope} to the app identity`, () => {
      const name = [...roles.matchAll(/(\w+): '([0-9a-f-]{36})'/g)].find((m) => m[2] === roleId)?.[1];
      assert.ok(name, `role ${roleId} is not defined`);
      const assignment = new RegExp(`scope: ${scope}\\n\\s+properties: \\{\\n\\s+roleDefinitionId: subscriptionResourceId\\('Microsoft.Authorization/roleDefinitions', roleIds.${name}\\)\\n\\s+principalId: identityPrincipalId`);
      assert.match(roles, assignment);
    });
  }

  it('uses the user-assigned identity for OpenAI, tables, host storage, deployment and telemetry', () => {
    const app = read('infra/modules/functionapp.bicep');
    assert.match(read('infra/main.bicep'), /AZURE_CLIENT_ID: identity.outputs.clientId/);
    assert.match(app, /AzureWebJobsStorage__credential: 'managedidentity'/);
    assert.match(app, /AzureWebJobsStorage__clientId: identityClientId/);
    assert.match(app, /type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId/);
    assert.match(app, /APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=\$\{identityClientId\};Authorization=AAD'/);
    assert.match(app, /runtime: \{ name: 'node', version: '22' \}/);
    assert.match(app, /tier: 'FlexConsumption'/);
  });
});

describe('infra: no secrets', () => {
  it('has no listKeys, account keys, SAS tokens or key literals; local auth is off everywhere', () => {
    for (const file of bicepFiles) {
      const text = read(file);
      assert.doesNotMatch(text, /listKeys|listKeys\(|AccountKey=|SharedAccessSignature|primaryKey|secondaryKey|key1|key2/i, file);
      assert.doesNotMatch(text, /@secure\(\)\s*\n\s*param \w+ string = '[^']+'/, `${file}: a secure parameter with a default`);
    }
    assert.match(allBicep, /allowSharedKeyAccess: false/);
    assert.match(allBicep, /disableLocalAuth: true/);
    assert.match(allBicep, /DisableLocalAuth: true/);
    assert.match(allBicep, /minimumTlsVersion: 'TLS1_2'/);
    assert.match(allBicep, /supportsHttpsTrafficOnly: true/);
  });
});

describe('infra: template structure', () => {
  // API versions used, each seen in current Azure-Samples azd templates or the ARM reference.
  const knownApiVersions: Record<string, string[]> = {
    'Microsoft.Resources/resourceGroups': ['2021-04-01'],
    'Microsoft.ManagedIdentity/userAssignedIdentities': ['2023-01-31'],
    'Microsoft.OperationalInsights/workspaces': ['2023-09-01'],
    'Microsoft.Insights/components': ['2020-02-02'],
    'Microsoft.Storage/storageAccounts': ['2023-05-01'],
    'Microsoft.Storage/storageAccounts/blobServices': ['2023-05-01'],
    'Microsoft.Storage/storageAccounts/blobServices/containers': ['2023-05-01'],
    'Microsoft.Storage/storageAccounts/tableServices': ['2023-05-01'],
    'Microsoft.Storage/storageAccounts/tableServices/tables': ['2023-05-01'],
    'Microsoft.CognitiveServices/accounts': ['2024-10-01'],
    'Microsoft.CognitiveServices/accounts/deployments': ['2024-10-01'],
    'Microsoft.Web/serverfarms': ['2024-04-01'],
    'Microsoft.Web/sites': ['2024-04-01'],
    'Microsoft.Web/sites/config': ['2024-04-01'],
    'Microsoft.Authorization/roleAssignments': ['2022-04-01'],
  };

  it('uses only known resource types and API versions', () => {
    const used = [...allBicep.matchAll(/resource \w+ '([^@']+)@([^']+)'/g)];
    assert.ok(used.length >= 15);
    for (const [, type, version] of used) assert.ok(knownApiVersions[type!]?.includes(version!), `${type}@${version}`);
  });

  it('references only modules that exist', () => {
    for (const [, path] of read('infra/main.bicep').matchAll(/module \w+ '([^']+)'/g)) assert.ok(existsSync(new URL(`infra/${path}`, root)), path!);
  });

  it('main.parameters.json sets only declared parameters, and every parameter without a default', () => {
    const main = read('infra/main.bicep');
    const params = new Map([...main.matchAll(/^param (\w+) \w+( = .*)?$/gm)].map((m) => [m[1]!, m[2] !== undefined]));
    const given = Object.keys(JSON.parse(read('infra/main.parameters.json')).parameters);
    for (const name of given) assert.ok(params.has(name), `${name} is not a parameter of main.bicep`);
    for (const [name, hasDefault] of params) if (!hasDefault) assert.ok(given.includes(name), `${name} has no default and no value`);
  });

  it('tags the function app for azd as the api service', () => {
    assert.match(read('infra/main.bicep'), /'azd-service-name': 'api'/);
  });
});

describe('config files against their schemas', () => {
  // What azd's schemas/v1.0/azure.yaml.json (draft 2019-09) requires of the parts this project uses.
  const azureYamlSchema = {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 2, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      metadata: { type: 'object', properties: { template: { type: 'string' } } },
      services: {
        type: 'object',
        minProperties: 1,
        additionalProperties: {
          type: 'object',
          required: ['host'],
          properties: {
            project: { type: 'string' },
            host: { enum: ['appservice', 'containerapp', 'function', 'springapp', 'staticwebapp', 'aks'] },
            language: { enum: ['dotnet', 'csharp', 'fsharp', 'py', 'python', 'js', 'ts', 'java', 'go', 'golang', 'docker'] },
            remoteBuild: { type: 'boolean' },
          },
        },
      },
    },
  };

  it('azure.yaml validates against what azd requires, as a TypeScript function app', () => {
    const config = parseYaml(read('azure.yaml'));
    const ajv = new Ajv2019({ strict: false });
    assert.ok(ajv.validate(azureYamlSchema, config), JSON.stringify(ajv.errors));
    assert.deepEqual(config.services.api, { project: '.', language: 'ts', host: 'function', remoteBuild: false });
    assert.ok(!ajv.validate(azureYamlSchema, { ...config, name: 'Not Valid' }));
  });

  it("azure.yaml validates against azd's published schema when shared/ carries a copy", (t) => {
    const copy = new URL('../../shared/schemas/azure.yaml.json', import.meta.url);
    if (!existsSync(copy)) return t.skip('no ../shared/schemas/azure.yaml.json beside this clone; the rules it requires are checked above');
    const ajv = new Ajv2019({ strict: false, validateFormats: false });
    assert.ok(ajv.validate(JSON.parse(readFileSync(copy, 'utf8')), parseYaml(read('azure.yaml'))), JSON.stringify(ajv.errors));
  });

  it('host.json: version 2.0, a v4 extension bundle range, route prefix api', () => {
    const host = JSON.parse(read('host.json'));
    assert.equal(host.version, '2.0');
    assert.equal(host.extensionBundle.id, 'Microsoft.Azure.Functions.ExtensionBundle');
    assert.match(host.extensionBundle.version, /^\[4\.\*?[\d.]*, 5\.0\.0\)$/);
    assert.equal(host.extensions.http.routePrefix, 'api');
  });
});
