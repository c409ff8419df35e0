/**
 * A stand-in AWS endpoint on 127.0.0.1 for the real AWS CLI v2, speaking the
 * documented JSON protocol of exactly the three calls aws.secrets and aws.ssm
 * make, and holding every request to it:
 *
 * - Secrets Manager GetSecretValue, X-Amz-Target `secretsmanager.GetSecretValue`
 *   https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 *   request {SecretId (1–2048 chars, required), VersionId?, VersionStage?};
 *   response {ARN, Name, VersionId, SecretString | SecretBinary (base64), VersionStages, CreatedDate};
 *   ResourceNotFoundException when there is no such secret.
 * - Systems Manager GetParameter, `AmazonSSM.GetParameter`
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 *   request {Name (1–2048, required), WithDecryption?}; response {Parameter: {Name, Type, Value,
 *   Version, LastModifiedDate, ARN, DataType[, Selector]}}; ParameterNotFound when absent.
 * - Systems Manager GetParameters, `AmazonSSM.GetParameters`
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
 *   request {Names (1–10 items, required), WithDecryption?}; response {Parameters: [...],
 *   InvalidParameters: [names not found]} — absent names are not an error.
 *   A SecureString's Value is its plaintext only with WithDecryption true.
 * - The JSON protocol: POST /, Content-Type application/x-amz-json-1.1, the operation in
 *   X-Amz-Target; errors are HTTP 400 with {"__type": CODE, "message": …}
 *   https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
 * - Signature Version 4 on every request (Authorization, X-Amz-Date), verified against the
 *   test's credentials: a request signed with other keys, for another service, or not at
 *   all is refused as AWS refuses it (UnrecognizedClientException, InvalidSignatureException).
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 *
 * Every request is recorded (operation, names asked for, the access key and region it was
 * signed with), never a value.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Secret { string?: string; binary?: Buffer }
export interface Param { type: 'String' | 'StringList' | 'SecureString'; value: string; version?: number }

export interface Call {
  target: string;
  names: string[];
  accessKey: string;
  region: string;
  withDecryption?: boolean;
}

export interface Fixture {
  /** access key id → secret access key */
  credentials: Record<string, string>;
  secrets: Record<string, Secret>;
  params: Record<string, Param>;
  /** SecretIds / parameter names whose request is never answered. */
  hang?: string[];
}

const TARGETS = {
  'secretsmanager.GetSecretValue': 'secretsmanager',
  'AmazonSSM.GetParameter': 'ssm',
  'AmazonSSM.GetParameters': 'ssm',
} as const;
type Target = keyof typeof TARGETS;

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const hmac = (k: string | Buffer, s: string) => createHmac('sha256', k).update(s).digest();

export class AwsEndpoint {
  readonly calls: Call[] = [];
  /** Requests refused for not following the protocol (a test expects none). */
  readonly violations: string[] = [];
  /** Added to every answer: a network round trip, for bench/vaults-unlock.ts. */
  delayMs = 0;
  private server: Server;
  private hung: ServerResponse[] = [];

  private constructor(readonly fixture: Fixture) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => setTimeout(() => this.handle(req, Buffer.concat(chunks), res), this.delayMs));
    });
  }

  static async start(fixture: Fixture): Promise<AwsEndpoint> {
    const e = new AwsEndpoint(fixture);
    await new Promise<void>((r) => e.server.listen(0, '127.0.0.1', () => r()));
    return e;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private fail(res: ServerResponse, type: string, message: string, status = 400): void {
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type });
    res.end(JSON.stringify({ __type: type, message }));
  }

  private violation(res: ServerResponse, why: string): void {
    this.violations.push(why);
    this.fail(res, 'SerializationException', why);
  }

  /** SigV4 check; returns the access key and region, or answers the error itself. */
  private verify(req: IncomingMessage, body: Buffer, service: string, res: ServerResponse): { accessKey: string; region: string } | null {
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    const amzDate = req.headers['x-amz-date'];
    if (!m || typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
      this.fail(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      return null;
    }
    const [, accessKey, date, region, svc, signedHeaders, signature] = m as unknown as string[];
    const secret = this.fixture.credentials[accessKey!];
    if (secret === undefined) {
      this.fail(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      return null;
    }
    const signed = signedHeaders!.split(';');
    if (svc !== service || date !== amzDate.slice(0, 8) || !['host', 'x-amz-date', 'x-amz-target', 'content-type'].every((h) => signed.includes(h))) {
      this.fail(res, 'InvalidSignatureException', 'Credential should be scoped to a valid service, date and the signed headers.');
      return null;
    }
    const canonicalHeaders = signed.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const canonical = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256(body)].join('\n');
    const scope = `${date}/${region}/${svc}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), svc!), 'aws4_request');
    if (createHmac('sha256', key).update(toSign).digest('hex') !== signature) {
      this.fail(res, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
      return null;
    }
    return { accessKey: accessKey!, region: region! };
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    if (req.method !== 'POST' || req.url !== '/') return this.violation(res, `${req.method} ${req.url}: the JSON protocol is POST /`);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return this.violation(res, `Content-Type ${req.headers['content-type']}`);
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string' || !(target in TARGETS)) return this.violation(res, `X-Amz-Target ${String(target)} is not one of the calls keyrack makes`);
    const who = this.verify(req, body, TARGETS[target as Target], res);
    if (!who) return;
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.violation(res, 'the body is not JSON');
    }
    const allowed: Record<Target, string[]> = {
      'secretsmanager.GetSecretValue': ['SecretId', 'VersionId', 'VersionStage'],
      'AmazonSSM.GetParameter': ['Name', 'WithDecryption'],
      'AmazonSSM.GetParameters': ['Names', 'WithDecryption'],
    };
    const extra = Object.keys(input).filter((k) => !allowed[target as Target].includes(k));
    if (extra.length) return this.violation(res, `${target}: unknown fields ${extra.join(', ')}`);
    const okName = (n: unknown): n is string => typeof n === 'string' && n.length >= 1 && n.length <= 2048;
    let names: string[];
    if (target === 'AmazonSSM.GetParameters') {
      if (!Array.isArray(input.Names) || input.Names.length < 1 || input.Names.length > 10 || !input.Names.every(okName)) {
        return this.fail(res, 'ValidationException', "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10");
      }
      names = input.Names as string[];
    } else {
      const n = target === 'secretsmanager.GetSecretValue' ? input.SecretId : input.Name;
      if (!okName(n)) return this.fail(res, 'ValidationException', 'a required name is missing or too long');
      names = [n];
    }
    const call: Call = { target, names, ...who };
    if (typeof input.WithDecryption === 'boolean') call.withDecryption = input.WithDecryption;
    this.calls.push(call);
    if (names.some((n) => this.fixture.hang?.includes(n))) {
      this.hung.push(res);
      return;
    }
    const ok = (doc: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(doc));
    };
    if (target === 'secretsmanager.GetSecretValue') {
      const s = this.fixture.secrets[names[0]!];
      if (!s) return this.fail(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      const arn = names[0]!.startsWith('arn:') ? names[0]! : `arn:aws:secretsmanager:${who.region}:111122223333:secret:${names[0]}-AbCdEf`;
      return ok({
        ARN: arn, Name: names[0], VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', VersionStages: ['AWSCURRENT'], CreatedDate: 1523477145.713,
        ...(s.string !== undefined ? { SecretString: s.string } : { SecretBinary: s.binary!.toString('base64') }),
      });
    }
    const decrypt = input.WithDecryption === true;
    const param = (name: string) => {
      const p = this.fixture.params[name];
      if (!p) return null;
      const value = p.type === 'SecureString' && !decrypt ? `AQICAHh-ciphertext-of-${name.length}` : p.value;
      return { Name: name, Type: p.type, Value: value, Version: p.version ?? 1, LastModifiedDate: 1582657288.8, ARN: `arn:aws:ssm:${who.region}:111122223333:parameter${name.startsWith('/') ? '' : '/'}${name}`, DataType: 'text' };
    };
    if (target === 'AmazonSSM.GetParameter') {
      const p = param(names[0]!);
      if (!p) return this.fail(res, 'ParameterNotFound', '');
      return ok({ Parameter: p });
    }
    const found = names.map(param).filter((p) => p !== null);
    return ok({ Parameters: found, InvalidParameters: names.filter((n) => !this.fixture.params[n]) });
  }
}
