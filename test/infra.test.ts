/**
 * What can be checked of the Azure deployment without Azure or a Bicep compiler: settings in step with the
 * code, every role the code needs, no secrets, and the config files against what their schemas require.
 * Only a real `azd up` proves the templates deploy (see README, "Deploy to Azure").
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import ignore from 'ignore';
import { parse as parseYaml } from 'yaml';
import { settingNames } from '../src/config.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const bicepFiles = [
  'infra/main.bicep',
  ...readdirSync(new URL('infra/modules/', root)).map((f) => `infra/modules/${f}`),
];
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

/** Settings the function app module sets among the host's own (the app reads them too). */
const SET_BY_FUNCTION_APP_MODULE = new Set([
  'APPLICATIONINSIGHTS_CONNECTION_STRING', // the host's telemetry; the app's metrics export turns on with it
]);

/** The keys of the `appSettings: { … }` object passed to the function app module in main.bicep. */
function bicepAppSettings(): string[] {
  const main = read('infra/main.bicep');
  const start = main.indexOf('appSettings: {');
  assert.ok(start > 0, 'main.bicep passes appSettings');
  const end = main.indexOf('\n    }', start);
  return [...main.slice(start, end).matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

/** Each `resource name 'Type@version' = … { … }` of a Bicep file, its body found by matching braces. */
function resourceBlocks(text: string): { symbol: string; type: string; body: string }[] {
  return [...text.matchAll(/^resource (\w+) '([^@']+)@[^']+'( existing)? = [^\n]*?\{/gm)].map((m) => {
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    return { symbol: m[1]!, type: m[2]!, body: text.slice(m.index, end + 1) };
  });
}

/** main.parameters.json: parameter → the value azd substitutes (`${VAR=default}`). */
function parameterFile(): Record<string, string> {
  const { parameters } = JSON.parse(read('infra/main.parameters.json'));
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, String((v as { value: unknown }).value)]));
}

/** The default of `param name type = default` in main.bicep, unquoted. */
function bicepDefault(name: string): string {
  const m = read('infra/main.bicep').match(new RegExp(`^param ${name} \\w+ = '?([^'\\n]*)'?$`, 'm'));
  assert.ok(m, `main.bicep declares ${name} with a default`);
  return m[1]!;
}

/**
 * azd's remote-build decision for a JavaScript/TypeScript function app on Flex Consumption, after
 * `resolveFunctionAppRemoteBuild` in Azure/azure-dev cli/azd/pkg/project/service_target_functionapp.go (added in
 * azd 1.23.12, PR #7223; same in 1.31.2 and main ae35809f, 2026-08-21): the service folder's .funcignore (BOM
 * stripped, gitignore syntax) decides whether `node_modules` is excluded, and an explicit remoteBuild must agree.
 */
function azdFlexRemoteBuild(serviceDir: string, remoteBuild: boolean | undefined): boolean {
  const path = join(serviceDir, '.funcignore');
  if (!existsSync(path)) return remoteBuild ?? true;
  const rules = ignore().add(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  const nodeModulesExcluded = rules.ignores('node_modules/');
  if (remoteBuild === undefined) return nodeModulesExcluded;
  if (remoteBuild && !nodeModulesExcluded)
    throw new Error("'remoteBuild: true' requires '.funcignore' to exclude node_modules");
  if (!remoteBuild && nodeModulesExcluded)
    throw new Error("'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules");
  return remoteBuild;
}

describe('infra: azd deploy of the function app', () => {
  const config = parseYaml(read('azure.yaml'));
  const functionServices = Object.entries(config.services as Record<string, Record<string, unknown>>).filter(
    ([, s]) => s.host === 'function',
  );

  it("passes azd's Flex Consumption remote-build rule with remote build off", () => {
    assert.ok(functionServices.length > 0);
    for (const [name, service] of functionServices) {
      assert.ok(['js', 'ts'].includes(service.language as string), `${name} is a JavaScript/TypeScript service`);
      const dir = new URL(`${service.project}/`, root).pathname;
      assert.equal(
        azdFlexRemoteBuild(dir, service.remoteBuild as boolean | undefined),
        false,
        `${name}: remote build off`,
      );
      // azd zips `dist` with the .funcignore found there (project_utils.go createDeployableZip): none is wanted.
      assert.ok(
        !existsSync(new URL(`${service.project}/${service.dist}/.funcignore`, root)),
        `${name}: no .funcignore in dist`,
      );
    }
  });

  it('the rule as written refuses the shapes azd refuses (the old .funcignore excluding node_modules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'azd-rule-'));
    try {
      writeFileSync(join(dir, '.funcignore'), '\uFEFFsrc/\nnode_modules/\n');
      assert.throws(
        () => azdFlexRemoteBuild(dir, false),
        /'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules/,
      );
      assert.equal(azdFlexRemoteBuild(dir, undefined), true);
      writeFileSync(join(dir, '.funcignore'), 'src/\n');
      assert.throws(() => azdFlexRemoteBuild(dir, true), /requires '.funcignore' to exclude node_modules/);
      assert.equal(azdFlexRemoteBuild(dir, false), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the build azd runs (npm run build) stages the folder azure.yaml deploys', () => {
    const pkg = JSON.parse(read('package.json'));
    assert.match(pkg.scripts.build, /scripts\/package\.ts --stage/);
    assert.match(read('scripts/package.ts'), new RegExp(`STAGING_DIR = '${functionServices[0]![1].dist}'`));
    assert.match(read('.gitignore'), /^\.build\/$/m);
  });
});

describe('infra: model deployments', () => {
  /**
   * Model versions closed to new customers ("deprecation") or retired on or before CHECKED_ON, from Microsoft's
   * tables: MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/includes/retirement/models.md (commit 31c50ba1)
   * and articles/ai-foundry/openai/concepts/legacy-models.md (commit e5e27c16, ms.date 2026-02-12).
   */
  const CHECKED_ON = '2026-11-27';
  const CLOSED: [model: string, version: string, closedOn: string][] = [
    ['gpt-4o', '2024-05-13', '2025-05-13'],
    ['gpt-4o', '2024-08-06', '2025-08-06'],
    ['gpt-4o', '2024-11-20', '2025-11-20'],
    ['gpt-4o-mini', '2024-07-18', '2025-07-18'],
    ['gpt-4.1', '2025-04-14', '2026-04-14'],
    ['gpt-4.1-mini', '2025-04-14', '2026-04-14'],
    ['gpt-4.1-nano', '2025-04-14', '2026-04-14'],
    ['o1', '2024-12-17', '2025-12-17'],
    ['o1-pro', '2025-03-19', '2026-03-19'],
    ['o3-mini', '2025-01-31', '2026-01-31'],
    ['o3', '2025-04-16', '2026-04-16'],
    ['o4-mini', '2025-04-16', '2026-04-16'],
    ['o3-pro', '2025-06-10', '2026-06-10'],
    ['codex-mini', '2025-05-16', '2026-05-16'],
    ['gpt-5-chat', '2025-08-07', '2026-03-01'],
    ['gpt-5-chat', '2025-10-03', '2026-03-01'],
    ['gpt-5-mini', '2025-08-07', '2026-08-07'],
    ['gpt-5-nano', '2025-08-07', '2026-08-07'],
    ['gpt-5-codex', '2025-09-15', '2026-09-15'],
    ['gpt-5-pro', '2025-10-06', '2026-10-06'],
    ['gpt-5.1', '2025-11-13', '2026-11-13'],
    ['gpt-5.1-codex', '2025-11-13', '2026-11-13'],
    ['gpt-35-turbo', '0301', '2025-02-13'],
    ['gpt-35-turbo', '0613', '2025-02-13'],
    ['gpt-35-turbo-16k', '0613', '2025-04-30'],
    ['gpt-4', '0314', '2025-06-06'],
    ['gpt-4', '0613', '2025-06-06'],
    ['babbage-002', '1', '2025-01-27'],
    ['davinci-002', '1', '2025-01-27'],
  ];
  const closed = (model: string, version: string) =>
    CLOSED.some(([m, v, on]) => m === model && v === version && on <= CHECKED_ON);

  const kinds = ['chat', 'completions', 'embeddings'] as const;
  const defaults = kinds.map((k) => ({
    kind: k,
    model: bicepDefault(`${k}ModelName`),
    version: bicepDefault(`${k}ModelVersion`),
    sku: bicepDefault(`${k}DeploymentSku`),
    capacity: bicepDefault(`${k}Capacity`),
  }));

  it('defaults to no model version closed to new customers or retired', () => {
    assert.ok(closed('gpt-4o-mini', '2024-07-18'), 'the list catches the former default');
    for (const d of defaults)
      if (d.model) assert.ok(!closed(d.model, d.version), `${d.kind}: ${d.model} ${d.version} is closed`);
    assert.ok(defaults.find((d) => d.kind === 'chat')!.model && defaults.find((d) => d.kind === 'embeddings')!.model);
  });

  it('model name, version, SKU and capacity are parameters azd env can set, with the same defaults', () => {
    const given = parameterFile();
    for (const d of defaults) {
      const upper = d.kind.toUpperCase();
      assert.equal(given[`${d.kind}ModelName`], `\${${upper}_MODEL_NAME=${d.model}}`);
      assert.equal(given[`${d.kind}ModelVersion`], `\${${upper}_MODEL_VERSION=${d.version}}`);
      assert.equal(given[`${d.kind}DeploymentSku`], `\${${upper}_DEPLOYMENT_SKU=${d.sku}}`);
      assert.equal(given[`${d.kind}Capacity`], `\${${upper}_CAPACITY=${d.capacity}}`);
    }
  });

  it('the completions deployment is optional: none deployed and none configured when its model is empty', () => {
    const main = read('infra/main.bicep');
    assert.equal(bicepDefault('completionsModelName'), '');
    assert.match(main, /empty\(completionsModelName\) \? \[\] : \[\n\s+\{ name: completionsModelName,/);
    assert.match(main, /AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: completionsModelName\n/);
    assert.match(main, /AZURE_OPENAI_CHAT_DEPLOYMENTS: chatModelName\n/);
    assert.match(main, /AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: embeddingsModelName\n/);
  });
});

describe('infra: Easy Auth and browser CORS', () => {
  const main = read('infra/main.bicep');
  const app = read('infra/modules/functionapp.bicep');

  it('stops provisioning with a clear message when auth is on without a client id', () => {
    assert.match(
      main,
      /var checkedAuthClientId = enableAppServiceAuth && empty\(authClientId\) \? fail\(authClientIdMissing\) : authClientId/,
    );
    assert.match(main, /var authClientIdMissing = '[^']*azd env set AUTH_CLIENT_ID/);
    assert.match(main, /authClientId: checkedAuthClientId\n/);
  });

  it('with auth on the platform answers CORS (preflights carry no token) and the app does not add its own', () => {
    assert.match(
      main,
      /var platformCorsOrigins = enableAppServiceAuth \? filter\(map\(split\(corsAllowedOrigins, ','\)/,
    );
    assert.match(main, /var appCorsOrigins = enableAppServiceAuth \? '' : corsAllowedOrigins/);
    assert.match(main, /CORS_ALLOWED_ORIGINS: appCorsOrigins\n/);
    assert.match(
      app,
      /cors: empty\(platformCorsOrigins\) \? null : \{ allowedOrigins: platformCorsOrigins, supportCredentials: false \}/,
    );
    assert.match(app, /requireAuthentication: true\n\s+unauthenticatedClientAction: 'Return401'/);
  });
});

describe('infra: settings', () => {
  it('sets every setting the app reads in Azure, and nothing the app does not read', () => {
    const inBicep = new Set(bicepAppSettings());
    const expected = settingNames.filter((name) => !LOCAL_ONLY.has(name) && !SET_BY_FUNCTION_APP_MODULE.has(name));
    for (const name of expected)
      assert.ok(inBicep.has(name), `${name} is read by src/config.ts but not set in infra/main.bicep`);
    const functionApp = read('infra/modules/functionapp.bicep');
    for (const name of SET_BY_FUNCTION_APP_MODULE) {
      assert.ok(
        (settingNames as string[]).includes(name),
        `${name} is listed as set by the module but src/config.ts does not read it`,
      );
      assert.match(
        functionApp,
        new RegExp(`^\\s+${name}: `, 'm'),
        `${name} is not set in infra/modules/functionapp.bicep`,
      );
    }
    for (const name of inBicep)
      assert.ok(
        (settingNames as string[]).includes(name),
        `${name} is set in Azure but src/config.ts does not read it`,
      );
    for (const name of LOCAL_ONLY)
      assert.ok((settingNames as string[]).includes(name), `${name} is listed as local-only but no longer exists`);
  });

  it('local.settings.sample.json lists every setting, as strings, for the node worker', () => {
    const sample = JSON.parse(read('local.settings.sample.json'));
    assert.equal(sample.IsEncrypted, false);
    assert.equal(sample.Values.FUNCTIONS_WORKER_RUNTIME, 'node');
    for (const value of Object.values(sample.Values)) assert.equal(typeof value, 'string');
    for (const name of settingNames)
      assert.ok(name in sample.Values, `${name} missing from local.settings.sample.json`);
  });
});

describe('infra: identity and roles', () => {
  // What the code does in Azure → the role that allows exactly that, on the resource it touches.
  const needed: [string, string, string][] = [
    ['call Azure OpenAI (src/upstream)', '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd', 'openai'],
    ['read/write conversations (src/conversations)', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', 'storage'],
    ['Functions host storage + deployment package', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'storage'],
    ['telemetry to App Insights without keys', '3913510d-42f4-4e42-8a64-420c390055eb', 'appInsights'],
  ];
  const roles = read('infra/modules/roles.bicep');
  for (const [why, roleId, scope] of needed) {
    it(`assigns ${roleId} (${why}) on ${scope} to the app identity`, () => {
      const name = [...roles.matchAll(/(\w+): '([0-9a-f-]{36})'/g)].find((m) => m[2] === roleId)?.[1];
      assert.ok(name, `role ${roleId} is not defined`);
      const assignment = new RegExp(
        `scope: ${scope}\\n\\s+properties: \\{\\n\\s+roleDefinitionId: subscriptionResourceId\\('Microsoft.Authorization/roleDefinitions', roleIds.${name}\\)\\n\\s+principalId: identityPrincipalId`,
      );
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
      assert.doesNotMatch(
        text,
        /listKeys|listKeys\(|AccountKey=|SharedAccessSignature|primaryKey|secondaryKey|key1|key2/i,
        file,
      );
      assert.doesNotMatch(
        text,
        /@secure\(\)\s*\n\s*param \w+ string = '[^']+'/,
        `${file}: a secure parameter with a default`,
      );
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
    'Microsoft.Insights/workbooks': ['2023-06-01'],
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
    for (const [, path] of read('infra/main.bicep').matchAll(/module \w+ '([^']+)'/g))
      assert.ok(existsSync(new URL(`infra/${path}`, root)), path);
  });

  it('main.parameters.json sets only declared parameters, and every parameter without a default', () => {
    const main = read('infra/main.bicep');
    const params = new Map([...main.matchAll(/^param (\w+) \w+( = .*)?$/gm)].map((m) => [m[1]!, m[2] !== undefined]));
    const given = Object.keys(JSON.parse(read('infra/main.parameters.json')).parameters);
    for (const name of given) assert.ok(params.has(name), `${name} is not a parameter of main.bicep`);
    for (const [name, hasDefault] of params)
      if (!hasDefault) assert.ok(given.includes(name), `${name} has no default and no value`);
  });

  it('tags only the function app (not its plan) with azd-service-name, as the api service', () => {
    // azd before 1.23.4 fails when two resources carry the tag; azd deploys to the one resource that has it.
    const tagged = bicepFiles.flatMap((file) =>
      resourceBlocks(read(file)).filter((r) => r.body.includes('azd-service-name')),
    );
    assert.deepEqual(
      tagged.map((r) => r.type),
      ['Microsoft.Web/sites'],
    );
    const code = allBicep.replace(/\/\/.*$/gm, '');
    assert.equal(code.match(/azd-service-name/g)?.length, 1, 'azd-service-name appears once, on the site');
    assert.match(read('infra/main.bicep'), /serviceName: 'api'/);
    assert.ok('api' in parseYaml(read('azure.yaml')).services);
    const plan = resourceBlocks(read('infra/modules/functionapp.bicep')).find(
      (r) => r.type === 'Microsoft.Web/serverfarms',
    );
    assert.match(plan!.body, /\n {2}tags: tags\n/);
  });

  it("role assignments for the deploying user take azd's AZURE_PRINCIPAL_TYPE, not a fixed 'User'", () => {
    const roles = read('infra/modules/roles.bicep');
    const userBlocks = resourceBlocks(roles).filter((r) => r.body.includes('principalId: userPrincipalId'));
    assert.ok(userBlocks.length >= 2);
    for (const r of userBlocks) assert.match(r.body, /principalType: userPrincipalType\n/, r.symbol);
    assert.doesNotMatch(roles, /principalType: 'User'/);
    assert.match(read('infra/main.bicep'), /userPrincipalType: principalType\n/);
    // azd stores the signed-in principal's kind as AZURE_PRINCIPAL_TYPE (pkg/environment/environment.go).
    assert.equal(parameterFile().principalType, '${AZURE_PRINCIPAL_TYPE=User}');
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
            language: {
              enum: ['dotnet', 'csharp', 'fsharp', 'py', 'python', 'js', 'ts', 'java', 'go', 'golang', 'docker'],
            },
            remoteBuild: { type: 'boolean' },
          },
        },
      },
    },
  };

  it('azure.yaml validates against what azd requires, as a TypeScript function app deployed from its staging folder', () => {
    const config = parseYaml(read('azure.yaml'));
    const ajv = new Ajv2019({ strict: false });
    assert.ok(ajv.validate(azureYamlSchema, config), JSON.stringify(ajv.errors));
    assert.deepEqual(config.services.api, {
      project: '.',
      language: 'ts',
      host: 'function',
      dist: '.build/deploy',
      remoteBuild: false,
    });
    assert.ok(!ajv.validate(azureYamlSchema, { ...config, name: 'Not Valid' }));
  });

  it("azure.yaml validates against azd's published schema, its external $refs resolved from the committed copies", async () => {
    // test/fixtures/azd-schemas/SOURCE.md names the azd commit these copies come from.
    const fixtures = new URL('fixtures/azd-schemas/', import.meta.url);
    const remote = 'https://raw.githubusercontent.com/Azure/azure-dev/main/cli/azd/extensions/';
    const loaded: string[] = [];
    const ajv = new Ajv2019({
      strict: false,
      validateFormats: false,
      loadSchema: async (uri) => {
        assert.ok(
          uri.startsWith(remote),
          `unexpected external $ref ${uri}: add a copy under test/fixtures/azd-schemas/`,
        );
        loaded.push(uri);
        const schema = JSON.parse(readFileSync(new URL(`extensions/${uri.slice(remote.length)}`, fixtures), 'utf8'));
        return { $id: uri, ...schema }; // one of them has no $id; its own #/definitions refs resolve against its URL
      },
    });
    ajv.addMetaSchema(draft07); // the extension schemas are draft-07
    const validate = await ajv.compileAsync<Record<string, unknown>>(
      JSON.parse(readFileSync(new URL('azure.yaml.json', fixtures), 'utf8')),
    );
    assert.ok(loaded.length >= 7, `resolved ${loaded.length} external schemas`);
    const config = parseYaml(read('azure.yaml')) as { services: { api: Record<string, unknown> } };
    assert.ok(validate(config), JSON.stringify(validate.errors));
    assert.ok(
      !validate({ ...config, services: { api: { ...config.services.api, remoteBuild: 'no' } } }),
      'the schema is applied',
    );
  });

  it('host.json: version 2.0, a v4 extension bundle range, route prefix api', () => {
    const host = JSON.parse(read('host.json'));
    assert.equal(host.version, '2.0');
    assert.equal(host.extensionBundle.id, 'Microsoft.Azure.Functions.ExtensionBundle');
    assert.match(host.extensionBundle.version, /^\[4\.\*?[\d.]*, 5\.0\.0\)$/);
    assert.equal(host.extensions.http.routePrefix, 'api');
  });
});

describe('infra: dashboard', () => {
  const workbook = JSON.parse(read('infra/modules/dashboard.workbook.json'));
  const tiles = workbook.items.filter((item: any) => item.type === 3).map((item: any) => item.content);

  it('a workbook on the App Insights resource, wired from main.bicep', () => {
    assert.match(read('infra/main.bicep'), /module dashboard 'modules\/dashboard.bicep'/);
    const dashboard = read('infra/modules/dashboard.bicep');
    assert.match(dashboard, /sourceId: appInsights.id/);
    assert.match(dashboard, /serializedData: loadTextContent\('dashboard.workbook.json'\)/);
    assert.equal(workbook.version, 'Notebook/1.0');
  });

  it('has the tiles the operators need, each query documented in docs/telemetry.md', () => {
    const docs = read('docs/telemetry.md');
    const names = workbook.items.filter((item: any) => item.type === 3).map((item: any) => item.name);
    for (const name of ['tokens-by-user', 'throttles', 'latency', 'errors']) assert.ok(names.includes(name), name);
    for (const tile of tiles) {
      assert.equal(tile.timeContextFromParameter, 'TimeRange');
      assert.ok(docs.includes(tile.query), `docs/telemetry.md lacks the query of "${tile.title}"`);
    }
    // The queries read the fields the app writes (src/telemetry/record.ts).
    const record = read('src/telemetry/record.ts');
    for (const tile of tiles) {
      for (const [, field] of tile.query.matchAll(/\br\.(\w+)/g))
        assert.match(record, new RegExp(`\\b${field}\\??:`), field);
    }
  });
});
