/**
 * Throw-away TLS material for tests, made at test time with the `openssl` CLI in a
 * temporary directory that is removed before this returns: nothing secret is ever
 * committed, and keys live only in the memory of the test process.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface TestPki {
  /** The CA that signs `server`, `serverOtherName` and `client`. */
  readonly ca: KeyPair;
  /** For 127.0.0.1 and localhost (subjectAltName IP and DNS). */
  readonly server: KeyPair;
  /** For `otherServerName` only: reaching it by address needs serverNameOverride. */
  readonly serverOtherName: KeyPair;
  readonly otherServerName: string;
  /** A client certificate with subject CN=`clientName`, signed by `ca`. */
  readonly client: KeyPair;
  readonly clientName: string;
  /** An unrelated CA, and a client certificate it signed (CN=`clientName` too). */
  readonly otherCa: KeyPair;
  readonly otherClient: KeyPair;
}

const days = "2";

/**
 * Makes a CA, server certificates and client certificates. EC P-256 keys keep
 * generation fast (well under a second for the whole set).
 */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "grpc-ts-pki-"));
  try {
    const ca = await makeCa(dir, "ca", "grpc-ts test CA");
    const otherCa = await makeCa(dir, "other-ca", "grpc-ts other test CA");
    const otherServerName = "grpc-ts.test.invalid";
    const clientName = "alice";
    return {
      ca,
      server: await makeLeaf(dir, "server", "localhost", ca, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
      serverOtherName: await makeLeaf(dir, "server-other", otherServerName, ca, `subjectAltName=DNS:${otherServerName}\nextendedKeyUsage=serverAuth\n`),
      otherServerName,
      client: await makeLeaf(dir, "client", clientName, ca, "extendedKeyUsage=clientAuth\n"),
      clientName,
      otherCa,
      otherClient: await makeLeaf(dir, "other-client", clientName, otherCa, "extendedKeyUsage=clientAuth\n"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const newEcKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function makeCa(dir: string, name: string, commonName: string): Promise<KeyPair> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  // `req -x509` marks the certificate CA:TRUE (the v3_ca section of the default config).
  await run("openssl", ["req", "-x509", "-new", ...newEcKey, "-keyout", key, "-out", cert, "-subj", `/CN=${commonName}`, "-days", days]);
  return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
}

async function makeLeaf(dir: string, name: string, commonName: string, issuer: KeyPair, extensions: string): Promise<KeyPair> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  const issuerKey = join(dir, `${name}.issuer.key`);
  const issuerCert = join(dir, `${name}.issuer.crt`);
  await writeFile(ext, `basicConstraints=CA:FALSE\n${extensions}`);
  await writeFile(issuerKey, issuer.key, { mode: 0o600 });
  await writeFile(issuerCert, issuer.cert);
  await run("openssl", ["req", "-new", ...newEcKey, "-keyout", key, "-out", csr, "-subj", `/CN=${commonName}`]);
  await run("openssl", [
    "x509", "-req", "-in", csr, "-CA", issuerCert, "-CAkey", issuerKey,
    "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", days, "-extfile", ext, "-out", cert,
  ]);
  return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
}
