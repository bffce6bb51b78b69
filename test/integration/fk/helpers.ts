import type { OrgUnitRegistration, UserRegistration } from "../../../src/model/index.js";
import type { FkSandbox } from "../../../src/sandbox/fk/index.js";
import { credentialsFromPkcs12, FkClient, type FkClientOptions } from "../../../src/targets/fk/index.js";

export const CVR = "29189846";
export const OTHER_CVR = "11223344";
export const PASSWORD = "sandbox-pw";

export function uuid(n: number, prefix = "0"): string {
  return `${prefix.repeat(8)}-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

export function unit(n: number, parent?: number, extra: Partial<OrgUnitRegistration> = {}): OrgUnitRegistration {
  return { Uuid: uuid(n, "a"), Name: `Enhed ${n}`, ...(parent !== undefined ? { ParentOrgUnitUuid: uuid(parent, "a") } : {}), ...extra };
}

export function user(n: number, unitNo: number, extra: Partial<UserRegistration> = {}): UserRegistration {
  return {
    Uuid: uuid(n, "b"),
    UserId: `user${n}`,
    Positions: [{ Name: "Medarbejder", OrgUnitUuid: uuid(unitNo, "a") }],
    Person: { Name: `Person ${n}` },
    ...extra,
  };
}

export function lines(): { write(s: string): void; text(): string } {
  let buf = "";
  return { write: (s) => void (buf += s), text: () => buf };
}

/** A client holding a certificate for `cvr` issued by the sandbox's CA (or the given PKCS#12). */
export function clientFor(sb: FkSandbox, opts: Partial<FkClientOptions> & { p12?: Buffer; certCvr?: string } = {}): FkClient {
  const p12 = opts.p12 ?? sb.issueClientCertificate({ cvr: opts.certCvr ?? CVR, password: PASSWORD });
  return new FkClient({
    graphqlUrl: sb.graphqlUrl,
    tokenUrl: sb.tokenUrl,
    cvr: CVR,
    caPem: sb.caPem,
    credentials: credentialsFromPkcs12(p12, PASSWORD, new Date()),
    ...opts,
  });
}

/** One HTTPS POST with the given client certificate (or none), for checks below the client. */
export async function rawPost(
  url: string,
  opts: { caPem: string; p12?: Buffer; body: string; headers?: Record<string, string> },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { request } = await import("node:https");
  const creds = opts.p12 ? credentialsFromPkcs12(opts.p12, PASSWORD, new Date()) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        ca: opts.caPem,
        ...(creds ? { key: creds.keyPem, cert: creds.certPem } : {}),
        headers: { "content-length": Buffer.byteLength(opts.body), ...opts.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

export function tokenForm(cvr: string): string {
  const entity = "http://stoettesystemerne.dk/service/organisation/3";
  return new URLSearchParams({ client_id: entity, grant_type: "client_credentials", scope: `entityid:${entity},anvenderkontekst:${cvr}` }).toString();
}
