// The HTTP client of both apps: NGSI-LD and admin calls against the same origin, with the
// tenant header and (console) the API key. Errors arrive as ProblemDetails (RFC 7807).

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

export class ApiError extends Error {
  constructor(public status: number, public problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

// A sign-in through the identity provider (console/oidc.ts): the access token is `key`.
export interface OidcTokens {
  refreshToken?: string;
  idToken?: string;
  expiresAt: number; // ms since the epoch
}

export interface Session {
  tenant: string; // "" = the default tenant
  key?: string; // API key or access token (console); none for anonymous reads
  oidc?: OidcTokens;
}

export type Params = Record<string, string | number | boolean | undefined>;

export function query(params: Params = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? '?' + parts.join('&') : '';
}

export class Api {
  // Renews `session.key` (the console's OIDC sign-in); resolves true when it is fresh again.
  // Called shortly before the token expires and once after a 401.
  renew?: () => Promise<boolean>;
  // How calls reach the network (the citizen app keeps its answers for offline use).
  fetcher: (url: string, init: RequestInit) => Promise<Response> = (url, init) => fetch(url, init);

  constructor(public session: Session) {}

  // The tenant and credential headers of every call (also for fetches outside `call`).
  headers(body = false, extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json', ...extra };
    if (this.session.tenant) h['NGSILD-Tenant'] = this.session.tenant;
    // An API key, or a token of the identity provider (OIDC, a JWT: three base64url parts).
    if (this.session.key && /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(this.session.key)) h.Authorization = `Bearer ${this.session.key}`;
    else if (this.session.key) h['X-API-Key'] = this.session.key;
    if (body) h['Content-Type'] = 'application/json';
    return h;
  }

  // One call; resolves with the parsed JSON body (null for 204) and the response headers.
  async call<T = unknown>(method: string, path: string, params?: Params, body?: unknown,
                          extra?: Record<string, string>): Promise<{ data: T; headers: Headers }> {
    const expiresAt = this.session.oidc?.expiresAt;
    if (this.renew && expiresAt !== undefined && Date.now() > expiresAt - 30e3) await this.renew();
    const send = () => this.fetcher(path + query(params), {
      method,
      headers: this.headers(body !== undefined, extra),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let res = await send();
    if (res.status === 401 && this.renew && (await this.renew())) res = await send();
    const text = await res.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) throw new ApiError(res.status, (data && typeof data === 'object' ? data : { detail: String(data) }) as Problem);
    return { data: data as T, headers: res.headers };
  }

  async get<T = unknown>(path: string, params?: Params): Promise<T> {
    return (await this.call<T>('GET', path, params)).data;
  }
}

export const NGSI = '/ngsi-ld/v1';

export function entityPath(id: string): string {
  return `${NGSI}/entities/${encodeURIComponent(id)}`;
}
