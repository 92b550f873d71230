// A self-signed certificate for 127.0.0.1 and localhost, made by openssl (Debian's, which
// .ci/run installs) in a temporary directory that is removed at once: tests that need a TLS
// server trusted by its client through `ca: cert`.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface SelfSigned {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A P-256 key and its self-signed certificate (CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, 2 days). */
export function selfSignedCertificate(): SelfSigned {
  const dir = mkdtempSync(path.join(tmpdir(), "rpyc-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost"],
        ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2", "-keyout", "key.pem", "-out", "cert.pem"],
      ].flat(),
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"] },
    );
    return { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
