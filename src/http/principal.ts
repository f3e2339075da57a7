import type { HttpRequest } from '@azure/functions';
import { settings } from '../config.js';
import { unauthorized } from './errors.js';

export interface Principal {
  id: string;
  name: string | null;
}

/** Each request's principal, read once (the route, its telemetry record and its quota all ask). */
const read = new WeakMap<HttpRequest, Principal | null>();

/**
 * The caller named by App Service authentication ("Easy Auth"). The platform strips and re-sets these
 * headers only when its authentication is on, so they are trusted only where configuration says so.
 */
export function principalOf(request: HttpRequest): Principal | null {
  if (!settings().TRUST_PRINCIPAL_HEADERS) return null;
  let principal = read.get(request);
  if (principal === undefined) {
    const id = request.headers.get('x-ms-client-principal-id')?.trim();
    principal = !id || id.length > 256 ? null : { id, name: request.headers.get('x-ms-client-principal-name') };
    read.set(request, principal);
  }
  return principal;
}

export function requirePrincipal(request: HttpRequest): Principal {
  const principal = principalOf(request);
  if (!principal) {
    throw unauthorized(
      settings().TRUST_PRINCIPAL_HEADERS
        ? 'Sign-in required: no x-ms-client-principal-id header.'
        : 'Sign-in required: this deployment does not trust principal headers (TRUST_PRINCIPAL_HEADERS is off), so conversations are unavailable.',
    );
  }
  return principal;
}
