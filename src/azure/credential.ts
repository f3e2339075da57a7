/**
 * The one place that chooses how the app authenticates to Azure (Azure OpenAI and Table Storage alike):
 * - AZURE_CLIENT_ID set (infra sets it): the user-assigned managed identity with that client id;
 * - a managed-identity endpoint in the environment (IDENTITY_ENDPOINT / MSI_ENDPOINT): the system-assigned one;
 * - otherwise DefaultAzureCredential, for local development (`az login`, VS Code, environment variables).
 * @azure/identity is imported on first use only: it is large, and most cold starts (tokenize, health) never need it.
 * One credential per process, shared by every client, so its token cache is shared too. Tokens are never logged.
 */
import type { TokenCredential } from '@azure/identity';
import { type ApiError, serviceUnavailable } from '../errors.js';

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** The scope @azure/data-tables asks for on a storage account's table endpoint. */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

export type CredentialKind = 'managed-identity (user-assigned)' | 'managed-identity' | 'default-azure-credential';

/** Which credential the environment selects, without loading @azure/identity. */
export function credentialKind(
  clientId: string | undefined,
  env: Record<string, string | undefined> = process.env,
): CredentialKind {
  if (clientId) return 'managed-identity (user-assigned)';
  if (env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT) return 'managed-identity';
  return 'default-azure-credential';
}

let shared: { clientId: string | undefined; credential: Promise<TokenCredential> } | undefined;

export function azureCredential(settings: { AZURE_CLIENT_ID?: string | undefined }): Promise<TokenCredential> {
  const clientId = settings.AZURE_CLIENT_ID;
  if (!shared || shared.clientId !== clientId) {
    const credential = (async (): Promise<TokenCredential> => {
      const identity = await import('@azure/identity');
      switch (credentialKind(clientId)) {
        case 'managed-identity (user-assigned)':
          return new identity.ManagedIdentityCredential({ clientId: clientId! });
        case 'managed-identity':
          return new identity.ManagedIdentityCredential();
        default:
          return new identity.DefaultAzureCredential();
      }
    })();
    shared = { clientId, credential };
  }
  return shared.credential;
}

/**
 * True for @azure/identity's failures to obtain a token (no identity, endpoint refused, unreachable). Their
 * messages can quote the identity endpoint's answer, so callers report them in their own words only.
 */
export function isCredentialError(error: unknown): boolean {
  const name = error instanceof Error ? error.name : undefined;
  return (
    name === 'CredentialUnavailableError' ||
    name === 'AuthenticationError' ||
    name === 'AggregateAuthenticationError' ||
    name === 'AuthenticationRequiredError'
  );
}

/**
 * A storage failure that is about the app's own credentials, as the clear 503 it deserves (the caller can't fix it;
 * the operator can), or undefined for any other failure. Says what to check, never what the token or endpoint said.
 */
export function storageAuthError(error: unknown): ApiError | undefined {
  if (isCredentialError(error)) {
    return serviceUnavailable(
      'The conversation store is unavailable: the app could not obtain a token for Table Storage from its ' +
        'managed identity.',
      'store_credential_unavailable',
    );
  }
  const status = typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : null;
  if (status === 401 || status === 403) {
    return serviceUnavailable(
      `The conversation store refused the app's credentials (${status}); ` +
        "check the identity's role on the storage account.",
      'store_auth_failed',
    );
  }
  return undefined;
}
