// An optional second Azure OpenAI account in another region, serving the same deployment names, with the
// app identity's (and the deploying user's) data-plane role on it. The API routes between both accounts
// (AZURE_OPENAI_BACKENDS): the second takes traffic when the first throttles or fails, or shares it.
param name string
param location string
param tags object
@description('Each: { name, model, version, sku, capacity }; the same names as the primary account.')
param deployments array
param identityPrincipalId string
param userPrincipalId string = ''

// Same as roles.bicep: call chat, completions and embeddings; cannot manage the account or read keys.
var cognitiveServicesOpenAIUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

module account 'openai.bicep' = {
  name: '${name}-account'
  params: { name: name, location: location, tags: tags, deployments: deployments }
}

resource secondary 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: name
}

resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceId('Microsoft.CognitiveServices/accounts', name), identityPrincipalId, cognitiveServicesOpenAIUser)
  scope: secondary
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAIUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
  dependsOn: [account]
}

resource userOpenAi 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(resourceId('Microsoft.CognitiveServices/accounts', name), userPrincipalId, cognitiveServicesOpenAIUser)
  scope: secondary
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAIUser)
    principalId: userPrincipalId
    principalType: 'User'
  }
  dependsOn: [account]
}

output name string = account.outputs.name
output endpoint string = account.outputs.endpoint
