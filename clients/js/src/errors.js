// Typed errors and their HTTP answers (RFC 6750 §3): the table of the Rust crate.

/**
 * Why a request's token was not accepted. `kind` is one of the names shared with the Rust
 * crate and the Python package (conformance/README.md); `claim` names the claim for
 * `missing_claim` / `invalid_claim`; `detail` is for logs and never contains the token.
 */
export class VerifyError extends Error {
  constructor(kind, detail = '', { claim, retryAfter } = {}) {
    super(detail ? `${kind}: ${detail}` : kind);
    this.name = 'VerifyError';
    this.kind = kind;
    this.detail = detail;
    this.claim = claim;
    this.retryAfter = retryAfter;
  }

  get status() {
    if (this.kind === 'invalid_request') return 400;
    if (this.kind === 'keys_unavailable') return 503;
    return 401;
  }

  get wwwAuthenticate() {
    if (this.kind === 'missing') return 'Bearer';
    if (this.kind === 'invalid_request') return 'Bearer error="invalid_request"';
    if (this.kind === 'keys_unavailable') return undefined;
    return 'Bearer error="invalid_token"';
  }

  get code() {
    return { missing: 'UNAUTHORIZED', invalid_request: 'INVALID_REQUEST', keys_unavailable: 'SERVICE_UNAVAILABLE' }[this.kind] ?? 'INVALID_TOKEN';
  }

  get publicMessage() {
    return (
      { missing: 'Unauthorized', invalid_request: 'Invalid request', keys_unavailable: 'Service unavailable', expired: 'Token expired' }[this.kind] ??
      'Invalid token'
    );
  }

  /** The JSON body of the answer. */
  get body() {
    return { message: this.publicMessage, code: this.code };
  }

  /** The headers of the answer. */
  get headers() {
    const h = {};
    if (this.wwwAuthenticate) h['WWW-Authenticate'] = this.wwwAuthenticate;
    if (this.retryAfter !== undefined) h['Retry-After'] = String(this.retryAfter);
    return h;
  }
}

/** A verifier could not be built: the configuration is unsafe or incomplete. */
export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A valid token whose subject is not the route's user: 403, the same body whether or not that user exists. */
export class Forbidden extends Error {
  constructor() {
    super('Forbidden');
    this.name = 'Forbidden';
    this.status = 403;
    this.headers = {};
    this.body = { message: 'Forbidden', code: 'FORBIDDEN' };
  }
}

/**
 * A valid token without a second factor where the route needs one: 401 with RFC 9470's
 * `insufficient_user_authentication` challenge, so a client knows to step up.
 */
export class MfaRequired extends Error {
  constructor() {
    super('Two-factor authentication required');
    this.name = 'MfaRequired';
    this.status = 401;
    this.headers = { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication"' };
    this.body = { message: 'Two-factor authentication required', code: 'MFA_REQUIRED' };
  }
}

export const malformed = (detail) => new VerifyError('malformed', detail);
