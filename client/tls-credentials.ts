// TLS for the channel to gopsd: server verification against a given CA or the system roots, an optional client
// certificate (mTLS), and a server name to verify (and send as SNI) when it differs from the address dialled.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { CredentialsError } from "./credentials-error.js";

/** PEM contents, or the path of a PEM file. */
export type PemSource = Buffer | string;

/** TLS to gopsd: the CA to trust, and a client certificate and key for mTLS. */
export interface TlsOptions {
  /** CA certificate(s) that signed gopsd's certificate; default: the system roots. */
  ca?: PemSource;
  /** Client certificate chain for mTLS (with `key`). */
  cert?: PemSource;
  /** Client private key for mTLS (with `cert`). */
  key?: PemSource;
  /** Name gopsd's certificate must carry, when it is not the host dialled (e.g. dialling an IP address). */
  serverName?: string;
}

/**
 * Channel credentials for `tls` (insecure without it). Files are read here, once: a missing file or PEM that
 * does not parse is a CredentialsError naming the file.
 */
export function channelCredentials(tls: TlsOptions | undefined): ChannelCredentials {
  if (tls === undefined) return ChannelCredentials.createInsecure();
  checkTlsOptions(tls);
  return secureCredentials(tls);
}

/**
 * Channel credentials shared by every connection with the same TLS material (CA, client certificate and key, by
 * path or content): a fleet's hosts usually share one CA, and building a secure context parses the CA and
 * certificates again each time (~0.6 ms per host, the largest per-host cost of a fan-out after the handshake).
 * Sharing the context shares nothing per host: each connection still does its own handshake and its own server
 * certificate check, and Node keeps client TLS sessions per socket, not in the context. Files are read once per
 * cache: a cache lives as long as the fleet that made it, so a rotated certificate is read by the next fleet.
 */
export class TlsCredentialsCache {
  private readonly byMaterial = new Map<string, ChannelCredentials>();

  get(tls: TlsOptions | undefined): ChannelCredentials {
    if (tls === undefined) return ChannelCredentials.createInsecure();
    checkTlsOptions(tls);
    const key = JSON.stringify([tls.ca, tls.cert, tls.key].map(materialKey));
    let credentials = this.byMaterial.get(key);
    if (credentials === undefined) {
      credentials = secureCredentials(tls);
      this.byMaterial.set(key, credentials);
    }
    return credentials;
  }
}

const materialKey = (source: PemSource | undefined) =>
  source === undefined ? null : typeof source === "string" ? `path:${source}` : `pem:${source.toString("base64")}`;

function checkTlsOptions(tls: TlsOptions): void {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new CredentialsError(`a TLS client ${tls.cert === undefined ? "key needs its certificate" : "certificate needs its key"}`);
  }
  if (tls.serverName !== undefined && !/^[A-Za-z0-9._*:-]+$/.test(tls.serverName)) {
    throw new CredentialsError(`TLS server name "${tls.serverName}" is not a host name`);
  }
}

function secureCredentials(tls: TlsOptions): ChannelCredentials {
  const ca = certificate(tls.ca, "CA certificate");
  const cert = certificate(tls.cert, "client certificate");
  const key = privateKey(tls.key);
  try {
    return ChannelCredentials.createSsl(ca ?? null, key ?? null, cert ?? null);
  } catch (e) {
    const files = [["CA", tls.ca], ["certificate", tls.cert], ["key", tls.key]]
      .filter((f): f is [string, string] => typeof f[1] === "string")
      .map(([what, path]) => `${what} ${path}`);
    const from = files.length > 0 ? ` (from ${files.join(", ")})` : "";
    throw new CredentialsError(`unusable TLS material${from}: ${(e as Error).message}`, { cause: e });
  }
}

/** Channel options that go with `tls`: the name to verify gopsd's certificate against. */
export function tlsChannelOptions(tls: TlsOptions | undefined): ChannelOptions {
  return tls?.serverName !== undefined ? { "grpc.ssl_target_name_override": tls.serverName } : {};
}

/** Node takes a CA "bundle" without a single certificate in it silently; this refuses it. */
function certificate(source: PemSource | undefined, what: string): Buffer | undefined {
  const bytes = pem(source, what);
  if (bytes === undefined) return undefined;
  try {
    new X509Certificate(bytes);
  } catch (e) {
    throw new CredentialsError(`${what} ${describe(source)} is not a PEM certificate: ${(e as Error).message}`, { cause: e });
  }
  return bytes;
}

function privateKey(source: PemSource | undefined): Buffer | undefined {
  const bytes = pem(source, "client key");
  if (bytes === undefined) return undefined;
  try {
    createPrivateKey(bytes);
  } catch (e) {
    throw new CredentialsError(`client key ${describe(source)} is not an unencrypted PEM private key: ${(e as Error).message}`, { cause: e });
  }
  return bytes;
}

const describe = (source: PemSource | undefined) => (typeof source === "string" ? source : "(given in memory)");

function pem(source: PemSource | undefined, what: string): Buffer | undefined {
  if (source === undefined || Buffer.isBuffer(source)) return source;
  try {
    return readFileSync(source);
  } catch (e) {
    throw new CredentialsError(`cannot read ${what} ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}
