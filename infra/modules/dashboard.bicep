// The operators' dashboard: an Azure Workbook on the App Insights resource, built from the app's request records
// (traces) and its gateway.* metrics (customMetrics). Tiles: tokens per user and deployment, 429s, p50/p95
// latency, errors, stream endings, retries. The queries are in dashboard.workbook.json and docs/telemetry.md.
param appInsightsName string
param location string
param tags object
param displayName string = 'Azure OpenAI API: usage and health'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per App Insights resource, so redeploys update it.
  name: guid(appInsights.id, 'operators-dashboard')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: loadTextContent('dashboard.workbook.json')
  }
}

output workbookId string = workbook.id
