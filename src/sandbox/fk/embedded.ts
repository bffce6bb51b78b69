import { randomBytes } from "node:crypto";
import { credentialsFromPkcs12, type ClientCredentials } from "../../targets/fk/index.js";
import type { FkStore } from "../fkstore/index.js";
import { startFkSandbox, type FkSandbox } from "./server.js";

/** The FK GraphQL sandbox as the demo environment uses it: its endpoints, CA and a certificate for the CVR. */
export interface EmbeddedFk {
  sandbox: FkSandbox;
  graphqlUrl: string;
  tokenUrl: string;
  caPem: string;
  /** An organisation certificate for the municipality, made with the sandbox and held in memory only. */
  credentials: ClientCredentials;
}

export async function startEmbeddedFk(store: FkStore, cvr: string): Promise<EmbeddedFk> {
  const sandbox = await startFkSandbox({ store, cvr });
  const password = randomBytes(12).toString("base64url");
  const p12 = sandbox.issueClientCertificate({ cvr, password, organisation: "Demo Kommune" });
  return {
    sandbox,
    graphqlUrl: sandbox.graphqlUrl,
    tokenUrl: sandbox.tokenUrl,
    caPem: sandbox.caPem,
    credentials: credentialsFromPkcs12(p12, password, new Date()),
  };
}
