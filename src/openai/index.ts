export { createUpstreamClient, resolveDeployment, upstream, type CallOptions, type Capability, type UpstreamClient } from './client.js';
