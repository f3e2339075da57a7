export {
  createUpstreamClient,
  deploymentLists,
  EVENT_TEXT,
  resolveDeployment,
  upstream,
  type CallOptions,
  type CallTrace,
  type Capability,
  type UpstreamClient,
  type UpstreamDescription,
} from './client.js';
export { UpstreamError, type UpstreamFailure } from './errors.js';
