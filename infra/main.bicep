// Everything the API needs, wired through one user-assigned managed identity: no keys, no connection strings
// with secrets. `azd up` provisions this and deploys the `api` service (azure.yaml) to the function app.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; used to name resources and tag them for azd.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption and the model deployments below.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user: given data-plane roles so the API can be run locally against Azure. Empty to skip.')
param principalId string = ''

@description('What principalId is (azd sets AZURE_PRINCIPAL_TYPE: a user, or a service principal in CI).')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Browser origins allowed to call the API (CORS), comma-separated, e.g. https://app.example.com. Empty: none.')
param corsAllowedOrigins string = ''

@description('Turn on App Service authentication (Entra ID). The API then trusts its x-ms-client-principal-* headers.')
param enableAppServiceAuth bool = false

@description('Entra ID app registration (client) id used by App Service authentication; required when enableAppServiceAuth.')
param authClientId string = ''

// Model deployments. Defaults: current, generally available models (Microsoft's model retirement table, read
// 2026-11-27; test/infra.test.ts keeps a list of retired versions they must not be on). Every default is offered
// as GlobalStandard in eastus2 and swedencentral (docs/deploy.md). Each deployment is named after its model,
// and that name is the `model` callers send.
@description('Chat model deployment (a GPT-5-family reasoning model: callers use max_completion_tokens).')
param chatModelName string = 'gpt-5.2'
param chatModelVersion string = '2025-12-11'
param chatDeploymentSku string = 'GlobalStandard'
@description('Capacity in thousands of tokens per minute.')
param chatCapacity int = 30

@description('Completions (instruct) model deployment; empty (the default) for none: /v1/completions then answers 404. Azure still offers gpt-35-turbo-instruct 0914, Standard, in few regions (eastus, swedencentral).')
param completionsModelName string = ''
param completionsModelVersion string = '0914'
param completionsDeploymentSku string = 'Standard'
param completionsCapacity int = 30

@description('Embeddings model deployment.')
param embeddingsModelName string = 'text-embedding-3-small'
param embeddingsModelVersion string = '1'
param embeddingsDeploymentSku string = 'GlobalStandard'
param embeddingsCapacity int = 30

@description('Azure OpenAI data-plane api-version the API calls (GA).')
param openAiApiVersion string = '2024-10-21'

@description('Most conversations one user may keep (CONVERSATIONS_PER_USER).')
param conversationsPerUser int = 1000

@description('Region of an optional second Azure OpenAI account with the same deployments (e.g. swedencentral). Empty: one account.')
param openAiSecondaryLocation string = ''
@description('Routing priority of the second account: 2 = spill-over when the first throttles or fails, 1 = share the load.')
param openAiSecondaryPriority int = 2

@description('Per-user token quotas (0 = off).')
param quotaTokensPerMinute int = 0
param quotaTokensPerDay int = 0

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
// Easy Auth without an app registration would lock every caller out: stop provisioning with a clear message.
var authClientIdMissing = 'enableAppServiceAuth is true but authClientId is empty: run `azd env set AUTH_CLIENT_ID <app registration client id>` (or `azd env set ENABLE_APP_SERVICE_AUTH false`), then `azd up`.'
var checkedAuthClientId = enableAppServiceAuth && empty(authClientId) ? fail(authClientIdMissing) : authClientId
// With Easy Auth on, the platform answers CORS (preflights carry no token; see docs/deploy.md), so the app's own
// CORS list is left empty to avoid a second set of Access-Control-* headers. With it off, the app answers CORS.
var platformCorsOrigins = enableAppServiceAuth ? filter(map(split(corsAllowedOrigins, ','), o => trim(o)), o => !empty(o)) : []
var appCorsOrigins = enableAppServiceAuth ? '' : corsAllowedOrigins
var conversationsTableName = 'conversations'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: { name: 'id-api-${resourceToken}', location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: { logAnalyticsName: 'log-${resourceToken}', appInsightsName: 'appi-${resourceToken}', location: location, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
    conversationsTableName: conversationsTableName
  }
}

// The same deployments on the primary account and, when there is one, on the second.
var openAiDeployments = concat(
  [{ name: chatModelName, model: chatModelName, version: chatModelVersion, sku: chatDeploymentSku, capacity: chatCapacity }],
  empty(completionsModelName) ? [] : [
    { name: completionsModelName, model: completionsModelName, version: completionsModelVersion, sku: completionsDeploymentSku, capacity: completionsCapacity }
  ],
  [{ name: embeddingsModelName, model: embeddingsModelName, version: embeddingsModelVersion, sku: embeddingsDeploymentSku, capacity: embeddingsCapacity }]
)

module openai 'modules/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: location
    tags: tags
    deployments: openAiDeployments
  }
}

module openaiSecondary 'modules/openai-secondary.bicep' = if (!empty(openAiSecondaryLocation)) {
  name: 'openai-secondary'
  scope: rg
  params: {
    name: 'oai2-${resourceToken}'
    location: empty(openAiSecondaryLocation) ? location : openAiSecondaryLocation
    tags: tags
    deployments: openAiDeployments
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

// Both accounts as backends of the API (src/upstream/backends.ts); empty with one account (AZURE_OPENAI_ENDPOINT).
var openAiBackends = empty(openAiSecondaryLocation) ? '' : string([
  { name: 'primary', endpoint: openai.outputs.endpoint, priority: 1, weight: 1 }
  { name: 'secondary', endpoint: openaiSecondary.outputs.endpoint, priority: openAiSecondaryPriority, weight: 1 }
])

module dashboard 'modules/dashboard.bicep' = {
  name: 'dashboard'
  scope: rg
  params: { appInsightsName: monitoring.outputs.appInsightsName, location: location, tags: tags }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    storageAccountName: storage.outputs.name
    openAiAccountName: openai.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module api 'modules/functionapp.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: 'func-api-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    // Only the site carries azd-service-name (azd before 1.23.4 fails when two resources carry it).
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    // Every setting src/config.ts reads that applies in Azure (test/infra.test.ts keeps this in step).
    appSettings: {
      AZURE_OPENAI_ENDPOINT: openai.outputs.endpoint
      AZURE_OPENAI_BACKENDS: openAiBackends
      AZURE_OPENAI_API_VERSION: openAiApiVersion
      AZURE_OPENAI_CHAT_DEPLOYMENTS: chatModelName
      AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: completionsModelName
      AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: embeddingsModelName
      AZURE_CLIENT_ID: identity.outputs.clientId
      AZURE_STORAGE_TABLE_ENDPOINT: storage.outputs.tableEndpoint
      CONVERSATIONS_TABLE_NAME: conversationsTableName
      CONVERSATIONS_PER_USER: string(conversationsPerUser)
      TRUST_PRINCIPAL_HEADERS: enableAppServiceAuth ? 'true' : 'false'
      CORS_ALLOWED_ORIGINS: appCorsOrigins
      MAX_REQUEST_BODY_BYTES: '4194304'
      UPSTREAM_TIMEOUT_MS: '60000'
      UPSTREAM_MAX_RETRIES: '3'
      UPSTREAM_RETRY_DEADLINE_MS: '30000'
      STREAM_IDLE_TIMEOUT_MS: '30000'
      UPSTREAM_BREAKER_FAILURES: '5'
      UPSTREAM_BREAKER_WINDOW_MS: '10000'
      UPSTREAM_BREAKER_COOLDOWN_MS: '30000'
      LOG_LEVEL: 'info'
      QUOTA_TOKENS_PER_MINUTE: string(quotaTokensPerMinute)
      QUOTA_TOKENS_PER_DAY: string(quotaTokensPerDay)
      LOG_FORMAT: 'json'
      TELEMETRY_CALLER_SALT: uniqueString(rg.id, 'telemetry-caller-hash')
    }
    enableAppServiceAuth: enableAppServiceAuth
    authClientId: checkedAuthClientId
    platformCorsOrigins: platformCorsOrigins
  }
  dependsOn: [roles]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output API_BASE_URL string = '${api.outputs.uri}/api/v1'
output AZURE_OPENAI_ENDPOINT string = openai.outputs.endpoint
output AZURE_OPENAI_ACCOUNT_NAME string = openai.outputs.name
output AZURE_OPENAI_BACKENDS string = openAiBackends
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_CLIENT_ID string = identity.outputs.clientId
