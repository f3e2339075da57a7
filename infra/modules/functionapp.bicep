// The API: a Node.js 22 function app on the Flex Consumption plan (scales to zero), running as the
// user-assigned identity, with identity-based host storage and telemetry.
param name string
param planName string
param location string
param tags object
@description('azd service name (azure.yaml): tagged on the site only, the one resource azd deploys to.')
param serviceName string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param appInsightsConnectionString string
@description('The settings the app itself reads (src/config.ts).')
param appSettings object
param enableAppServiceAuth bool
param authClientId string
@description('Origins the platform answers CORS for (used with Easy Auth on; empty: platform CORS off).')
param platformCorsOrigins array

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      // Without Easy Auth the app answers CORS itself from CORS_ALLOWED_ORIGINS (src/http/handler.ts) and platform
      // CORS stays off. With Easy Auth on, a browser preflight (OPTIONS, no token) must be answered before the auth
      // layer can refuse it: platform CORS does that at the front end, and takes precedence over the app's CORS.
      cors: empty(platformCorsOrigins) ? null : { allowedOrigins: platformCorsOrigins, supportCredentials: false }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 100, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, {
    // The Functions host's own settings (not read by the app): identity-based host storage and telemetry.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // No --enable-source-maps (languageWorkers__node__arguments): parsing each chunk's map as it loads costs the
    // first answer ~20 ms of cold start; the bundle keeps function names readable instead (scripts/build.ts).
  })
}

// App Service authentication (Entra ID): the platform signs callers in and sets x-ms-client-principal-*,
// which the app then trusts (TRUST_PRINCIPAL_HEADERS=true is set with this switch in main.bicep).
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (enableAppServiceAuth) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${authClientId}', authClientId]
        }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
