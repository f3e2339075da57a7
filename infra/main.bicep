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

@description('Browser origins allowed to call the API (CORS), comma-separated, e.g. https://app.example.com. Empty: none.')
param corsAllowedOrigins string = ''

@description('Turn on App Service authentication (Entra ID). The API then trusts its x-ms-client-principal-* headers.')
param enableAppServiceAuth bool = false

@description('Entra ID app registration (client) id used by App Service authentication; required when enableAppServiceAuth.')
param authClientId string = ''

@description('Chat model deployment.')
param chatModelName string = 'gpt-4o-mini'
param chatModelVersion string = '2024-07-18'
param chatDeploymentSku string = 'GlobalStandard'
@description('Capacity in thousands of tokens per minute.')
param chatCapacity int = 30

@description('Completions (instruct) model deployment.')
param completionsModelName string = 'gpt-35-turbo-instruct'
param completionsModelVersion string = '0914'
param completionsDeploymentSku string = 'Standard'
param completionsCapacity int = 30

@description('Embeddings model deployment.')
param embeddingsModelName string = 'text-embedding-3-small'
param embeddingsModelVersion string = '1'
param embeddingsDeploymentSku string = 'Standard'
param embeddingsCapacity int = 30

@description('Azure OpenAI data-plane api-version the API calls (GA).')
param openAiApiVersion string = '2024-10-21'

@description('Per-user token quotas (0 = off).')
param quotaTokensPerMinute int = 0
param quotaTokensPerDay int = 0

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
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

module openai 'modules/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: location
    tags: tags
    deployments: [
      { name: chatModelName, model: chatModelName, version: chatModelVersion, sku: chatDeploymentSku, capacity: chatCapacity }
      { name: completionsModelName, model: completionsModelName, version: completionsModelVersion, sku: completionsDeploymentSku, capacity: completionsCapacity }
      { name: embeddingsModelName, model: embeddingsModelName, version: embeddingsModelVersion, sku: embeddingsDeploymentSku, capacity: embeddingsCapacity }
    ]
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
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
    tags: union(tags, { 'azd-service-name': 'api' })
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    // Every setting src/config.ts reads that applies in Azure (test/infra.test.ts keeps this in step).
    appSettings: {
      AZURE_OPENAI_ENDPOINT: openai.outputs.endpoint
      AZURE_OPENAI_API_VERSION: openAiApiVersion
      AZURE_OPENAI_CHAT_DEPLOYMENTS: chatModelName
      AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: completionsModelName
      AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: embeddingsModelName
      AZURE_CLIENT_ID: identity.outputs.clientId
      AZURE_STORAGE_TABLE_ENDPOINT: storage.outputs.tableEndpoint
      CONVERSATIONS_TABLE_NAME: conversationsTableName
      TRUST_PRINCIPAL_HEADERS: enableAppServiceAuth ? 'true' : 'false'
      CORS_ALLOWED_ORIGINS: corsAllowedOrigins
      MAX_REQUEST_BODY_BYTES: '4194304'
      UPSTREAM_TIMEOUT_MS: '60000'
      UPSTREAM_MAX_RETRIES: '3'
      UPSTREAM_RETRY_DEADLINE_MS: '30000'
      STREAM_IDLE_TIMEOUT_MS: '30000'
      QUOTA_TOKENS_PER_MINUTE: string(quotaTokensPerMinute)
      QUOTA_TOKENS_PER_DAY: string(quotaTokensPerDay)
    }
    enableAppServiceAuth: enableAppServiceAuth
    authClientId: authClientId
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
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_CLIENT_ID string = identity.outputs.clientId
