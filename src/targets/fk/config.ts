import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { CertificateError, UsageError } from "../../errors/index.js";
import { ENVIRONMENT_DEFAULTS, endpointsFor, resolveSecret, type Environment, type SecretOptions } from "../../manifest/index.js";
import type { FkClientOptions, ProgressStream } from "./client.js";
import { credentialsFromPkcs12, type ClientCredentials } from "./credentials.js";

/** Where an FK endpoint pair comes from when it is not the stage's (the embedded sandbox). */
export interface FkEndpointOverride {
  graphqlUrl: string;
  tokenUrl: string;
  caPem?: string;
  /** The sandbox's own client certificate, used when the manifest names none. */
  credentials?: ClientCredentials;
}

/**
 * Client options for an environment: URLs from `spec.fk` or else the stage, the organisation
 * certificate from `spec.certificate` (password resolved here, the key kept in memory only), the
 * municipality's CVR.
 */
export async function fkClientOptionsFor(
  env: Environment,
  secrets: SecretOptions,
  opts: { now: Date; progress?: ProgressStream; override?: FkEndpointOverride },
): Promise<FkClientOptions> {
  const fk = env.fk ?? ENVIRONMENT_DEFAULTS.fk;
  const stage = endpointsFor(env.stage);
  const graphqlUrl = env.fk?.graphqlUrl ?? opts.override?.graphqlUrl ?? stage.fkGraphql ?? undefined;
  const tokenUrl = env.fk?.tokenUrl ?? opts.override?.tokenUrl ?? stage.fkToken ?? undefined;
  if (graphqlUrl === undefined || tokenUrl === undefined) {
    throw new UsageError(`--refresh fk needs FK Organisation's GraphQL and token URLs, and stage "${env.stage}" implies none.`, {
      file: env.file,
      path: "spec.fk",
      hint: "Set spec.fk.graphqlUrl and spec.fk.tokenUrl.",
    });
  }
  let credentials: ClientCredentials;
  if (env.certificate) {
    const path = isAbsolute(env.certificate.path) ? env.certificate.path : resolve(env.baseDir, env.certificate.path);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new CertificateError(`the organisation certificate cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
        file: path,
        hint: "spec.certificate.path must name the FOCES/OCES3 PKCS#12 file (.p12/.pfx).",
      });
    }
    const password = await resolveSecret(env.certificate.password, secrets);
    credentials = credentialsFromPkcs12(bytes, password, opts.now, path);
  } else if (opts.override?.credentials) {
    credentials = opts.override.credentials;
  } else {
    throw new UsageError("--refresh fk signs in to KOMBIT with the organisation certificate, and the manifest names none.", {
      file: env.file,
      path: "spec.certificate",
      hint: "Set spec.certificate.path and spec.certificate.password (a secret reference), or use --refresh full.",
    });
  }
  return {
    graphqlUrl,
    tokenUrl,
    cvr: env.municipality.cvr,
    credentials,
    authScheme: fk.authScheme,
    tlsMinVersion: fk.tlsMinVersion,
    tlsMaxVersion: fk.tlsMaxVersion,
    ...(opts.override?.caPem !== undefined && env.fk?.graphqlUrl === undefined ? { caPem: opts.override.caPem } : {}),
    progress: opts.progress,
  };
}
