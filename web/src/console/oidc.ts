// Sign-in through the identity provider's own page: the OpenID Connect authorization code flow
// with PKCE, all in the browser (the console is a public client: it holds no secret).
//   1. /console-config.json names the issuer, client id and scopes of this deployment;
//   2. the provider's discovery document names its endpoints (OIDC Discovery 1.0, 4);
//   3. the browser goes to the authorization endpoint with a PKCE challenge (RFC 7636), a state
//      and a nonce, kept in sessionStorage until it comes back to /console/?code=...&state=...;
//   4. the code is exchanged at the token endpoint (a CORS fetch to the provider), the access
//      token (a JWT the server verifies, docs/security.md) is used as `Authorization: Bearer`;
//   5. before it expires, or when the server refuses it, it is renewed with the refresh token,
//      else the browser signs in again (the provider's session usually makes that a redirect);
//   6. signing out ends the provider's session too (RP-Initiated Logout 1.0).
import type { OidcTokens } from '../shared/api';

export interface OidcConfig {
  issuer: string;
  clientId: string;
  scopes: string;
  tenantClaim: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}


interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
}

const PENDING = 'allmende.console.oidc'; // the login in progress: verifier, state, nonce, tenant

export async function loadOidcConfig(): Promise<OidcConfig | null> {
  try {
    const res = await fetch('/console-config.json');
    return res.ok ? ((await res.json()).oidc ?? null) : null;
  } catch {
    return null;
  }
}

const discoveries = new Map<string, Promise<Discovery>>();
function discover(issuer: string): Promise<Discovery> {
  let d = discoveries.get(issuer);
  if (!d) {
    d = fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`).then(async (res) => {
      if (!res.ok) throw new Error(`${issuer}: discovery ${res.status}`);
      return res.json();
    });
    discoveries.set(issuer, d);
    d.catch(() => discoveries.delete(issuer));
  }
  return d;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// The claims of a JWT, unverified: the server verifies the access token; the ID token comes
// straight from the token endpoint over the connection the browser checked (OIDC Core 3.1.3.7).
export function jwtClaims(token: string | undefined): Record<string, unknown> {
  try {
    const part = (token ?? '').split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

// A claim at a dotted path (as the server reads --jwt-tenant-claim).
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let v: unknown = claims;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function redirectUri(): string {
  return `${location.origin}/console/`;
}

// Step 3: leaves the page for the provider's login. `tenant`: what the user typed ("" = the
// token's tenant claim).
export async function beginLogin(config: OidcConfig, tenant: string): Promise<void> {
  const d = await discover(config.issuer);
  const verifier = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = randomString();
  const nonce = randomString();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, tenant, back: location.hash }));
  const url = new URL(d.authorization_endpoint);
  const params: Record<string, string> = {
    response_type: 'code', client_id: config.clientId, redirect_uri: redirectUri(), scope: config.scopes,
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.href);
}

async function tokenRequest(config: OidcConfig, form: Record<string, string>): Promise<TokenAnswer> {
  const d = await discover(config.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ client_id: config.clientId, ...form }).toString(),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new Error(`${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  }
  return body;
}

function tokensOf(answer: TokenAnswer, previous?: OidcTokens): OidcTokens {
  // Without expires_in, the token's own exp.
  const exp = Number(jwtClaims(answer.access_token).exp);
  const expiresAt = answer.expires_in ? Date.now() + answer.expires_in * 1000 : exp ? exp * 1000 : Date.now() + 300e3;
  // A refresh answer may keep the old refresh and ID tokens (RFC 6749 6, OIDC Core 12.2).
  return { refreshToken: answer.refresh_token ?? previous?.refreshToken, idToken: answer.id_token ?? previous?.idToken, expiresAt };
}

export interface SignedIn {
  accessToken: string;
  tokens: OidcTokens;
  tenant: string;
  back: string; // the console's route before the login
}

// Step 4, when the provider sent the browser back: null when this load is no such return.
// Throws when the return is not the one this tab started (state), or the provider refused.
export async function completeLogin(config: OidcConfig): Promise<SignedIn | null> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', '/console/'); // the code is used once; it leaves the address bar
  if (!pending || params.get('state') !== pending.state) throw new Error('the sign-in answer does not belong to this tab (state)');
  if (params.has('error')) throw new Error(`${params.get('error')}: ${params.get('error_description') ?? ''}`);
  const answer = await tokenRequest(config, {
    grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: redirectUri(), code_verifier: pending.verifier,
  });
  if (answer.id_token && jwtClaims(answer.id_token).nonce !== pending.nonce) throw new Error('the ID token does not carry this sign-in\'s nonce');
  const tokenTenant = claimAt(jwtClaims(answer.access_token), config.tenantClaim);
  return {
    accessToken: answer.access_token,
    tokens: tokensOf(answer),
    tenant: pending.tenant || (typeof tokenTenant === 'string' ? tokenTenant : ''),
    back: /^#\/[a-z]/.test(pending.back ?? '') ? pending.back : '#/overview',
  };
}

// Step 5: a new access token through the refresh token; null when there is none or the
// provider refuses it (then the user signs in again).
export async function refresh(config: OidcConfig, tokens: OidcTokens): Promise<{ accessToken: string; tokens: OidcTokens } | null> {
  if (!tokens.refreshToken) return null;
  try {
    const answer = await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    return { accessToken: answer.access_token, tokens: tokensOf(answer, tokens) };
  } catch {
    return null;
  }
}

// Step 6: to the provider's logout (it sends the browser back to the console), or just back to
// the sign-in form when the provider has no such endpoint.
export async function endSession(config: OidcConfig, tokens: OidcTokens): Promise<void> {
  let d: Discovery | undefined;
  try {
    d = await discover(config.issuer);
  } catch {
    d = undefined;
  }
  if (!d?.end_session_endpoint) return;
  const url = new URL(d.end_session_endpoint);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  if (tokens.idToken) url.searchParams.set('id_token_hint', tokens.idToken);
  location.assign(url.href);
}
