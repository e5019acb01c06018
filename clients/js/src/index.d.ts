// Types of @tessera/verify (the package is plain JavaScript; these are written by hand).

export type VerifyErrorKind =
  | 'missing'
  | 'invalid_request'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'unknown_key'
  | 'algorithm_not_allowed'
  | 'missing_claim'
  | 'invalid_claim'
  | 'revoked'
  | 'keys_unavailable';

export type Algorithm = 'HS256' | 'EdDSA' | 'ES256' | 'RS256';

/** The claims of a verified token. Every claim is also in `raw`. */
export interface Claims {
  readonly sub: string;
  readonly sid?: string;
  readonly jti?: string;
  readonly email?: string;
  readonly name?: string;
  readonly iat?: number;
  readonly exp: number;
  readonly nbf?: number;
  readonly iss: string;
  readonly aud: string[];
  /** Authentication methods (RFC 8176), e.g. ["pwd", "mfa"]; empty until Tessera's two-factor feature sends them. */
  readonly amr: string[];
  readonly kid?: string;
  readonly alg: Algorithm;
  readonly raw: Record<string, unknown>;
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { message: string; code: string };
}

export class VerifyError extends Error {
  readonly kind: VerifyErrorKind;
  readonly detail: string;
  readonly claim?: string;
  readonly retryAfter?: number;
  readonly status: number;
  readonly wwwAuthenticate?: string;
  readonly code: string;
  readonly publicMessage: string;
  readonly body: { message: string; code: string };
  readonly headers: Record<string, string>;
}
export class ConfigError extends Error {}
export class Forbidden extends Error {
  readonly status: 403;
  readonly headers: Record<string, string>;
  readonly body: { message: string; code: string };
}
export class MfaRequired extends Error {
  readonly status: 401;
  readonly headers: Record<string, string>;
  readonly body: { message: string; code: string };
}

export interface RevocationCheck {
  isRevoked(claims: Claims): boolean;
}

export interface VerifierOptions {
  issuer: string;
  audience: string | string[];
  hs256Secret?: string | Uint8Array;
  jwks?: { keys: unknown[] } | string;
  jwksUrl?: string;
  /** seconds, 0..300 (default 30) */
  leeway?: number;
  /** seconds (default 86400) */
  maxLifetime?: number;
  jwksCooldownMs?: number;
  jwksRefreshIntervalMs?: number;
  httpTimeoutMs?: number;
  jwksMaxBytes?: number;
  revocation?: RevocationCheck | ((claims: Claims) => boolean);
  /** seconds since the epoch */
  clock?: () => number;
  logger?: { warn?(message: string): void; info?(message: string): void };
}

export const MAX_TOKEN_LEN: number;
export const DEFAULT_LEEWAY: number;
export const MAX_LEEWAY: number;
export const DEFAULT_MAX_LIFETIME: number;

export class Verifier {
  constructor(options: VerifierOptions);
  static create(options: VerifierOptions): Promise<Verifier>;
  readonly issuer: string;
  readonly audiences: string[];
  readonly ready: Promise<Verifier>;
  verify(token: string): Promise<Claims>;
  verifyAuthorization(authorization: string | string[] | undefined | null): Promise<Claims>;
  refreshKeys(): Promise<number>;
  close(): void;
}

export function bearerToken(authorization: string | string[] | undefined | null): string;

export interface RevocationFeedOptions {
  /** Tessera's --revocations-secret, sent as Authorization: Bearer */
  secret?: string;
  intervalMs?: number;
  timeoutMs?: number;
  start?: boolean;
  now?: () => number;
  logger?: { warn?(message: string): void; info?(message: string): void };
}

export class RevocationFeed implements RevocationCheck {
  constructor(url: string, options?: RevocationFeedOptions);
  readonly cursor: string | null;
  readonly healthy: boolean;
  readonly size: number;
  has(sid: string): boolean;
  isRevoked(claims: Claims): boolean;
  poll(): Promise<boolean>;
  start(): void;
  ready(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

export class RevokedSessions implements RevocationCheck {
  constructor(sids?: Iterable<string>);
  add(sid: string): void;
  has(sid: string): boolean;
  isRevoked(claims: Claims): boolean;
}

export interface GuardOptions {
  /** the route parameter that must equal the token's subject (403 otherwise) */
  owner?: string;
  /** require a second factor (the amr claim contains "mfa") */
  mfa?: boolean;
}

export function requireOwner(claims: Claims, userId: string | undefined): Claims;
export function requireMfa(claims: Claims): Claims;
export function errorAnswer(error: unknown): ErrorAnswer;
export function errorResponse(error: unknown): Response;
export function verifyRequest(verifier: Verifier, request: Request): Promise<Claims>;
export function expressAuth(verifier: Verifier, options?: GuardOptions): (req: any, res: any, next: (err?: unknown) => void) => Promise<void>;
export function fastifyAuth(verifier: Verifier, options?: GuardOptions): (request: any, reply: any) => Promise<unknown>;
export function honoAuth(verifier: Verifier, options?: GuardOptions): (c: any, next: () => Promise<void>) => Promise<Response | void>;
export function withAuth<C = unknown>(
  verifier: Verifier,
  handler: (request: Request, context: C, claims: Claims) => Response | Promise<Response>,
  options?: GuardOptions,
): (request: Request, context: C) => Promise<Response>;
