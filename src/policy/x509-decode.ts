import { ASN1Obj } from '@sigstore/core';

/**
 * Kyverno's `x509_decode` (pkg/engine/jmespath/functions.go): a PEM `CERTIFICATE` or
 * `CERTIFICATE REQUEST` decoded into what Go's x509.Certificate / x509.CertificateRequest become
 * through encoding/json and back into a generic map: Go field names as keys, byte slices as base64,
 * absent slices as null, enums as Go's integers, times as RFC 3339, the serial number as a (float)
 * number, and `PublicKey` replaced by `{N: "<decimal>", E: <int>}`. Like Kyverno, only RSA keys are
 * accepted. Field order and set follow Kyverno's own test vectors (Go's struct up to
 * PolicyIdentifiers).
 *
 * The input is attacker-controlled (it usually comes from the admitted object): the DER is parsed
 * with @sigstore/core's ASN.1 reader and every access is shape-checked; a malformed certificate is
 * an error, never a partial result.
 */
export class X509DecodeError extends Error {}

type Json = unknown;

const b64 = (b: Buffer | undefined | null): string | null => (b ? b.toString('base64') : null);
const oidInts = (oid: string): number[] => oid.split('.').map(Number);

function fail(msg: string): never {
  throw new X509DecodeError(msg);
}

function seq(o: ASN1Obj | undefined, what: string): ASN1Obj[] {
  if (!o || o.tag.number !== 0x10 || !o.tag.constructed || !o.tag.isUniversal()) fail(`x509_decode: malformed ${what}`);
  return o.subs;
}

/** Go's x509.SignatureAlgorithm values. */
const SIGNATURE_ALGORITHMS: Record<string, number> = {
  '1.2.840.113549.1.1.2': 1,
  '1.2.840.113549.1.1.4': 2,
  '1.2.840.113549.1.1.5': 3,
  '1.2.840.113549.1.1.11': 4,
  '1.2.840.113549.1.1.12': 5,
  '1.2.840.113549.1.1.13': 6,
  '1.2.840.10040.4.3': 7,
  '2.16.840.1.101.3.4.3.2': 8,
  '1.2.840.10045.4.1': 9,
  '1.2.840.10045.4.3.2': 10,
  '1.2.840.10045.4.3.3': 11,
  '1.2.840.10045.4.3.4': 12,
  '1.3.101.112': 16,
};
const RSA_PSS = '1.2.840.113549.1.1.10';
const PSS_HASH: Record<string, number> = { '2.16.840.1.101.3.4.2.1': 13, '2.16.840.1.101.3.4.2.2': 14, '2.16.840.1.101.3.4.2.3': 15 };

function signatureAlgorithm(algId: ASN1Obj): number {
  const parts = seq(algId, 'AlgorithmIdentifier');
  const oid = parts[0]!.toOID();
  if (oid !== RSA_PSS) return SIGNATURE_ALGORITHMS[oid] ?? 0;
  // RSASSA-PSS: the hash is inside the parameters ([0] hashAlgorithm).
  try {
    const hash = parts[1]?.subs.find((s) => s.tag.isContextSpecific(0))?.subs[0]?.subs[0]?.toOID();
    return PSS_HASH[hash ?? ''] ?? 0;
  } catch {
    return 0;
  }
}

/** Go's x509.PublicKeyAlgorithm values. */
const PUBLIC_KEY_ALGORITHMS: Record<string, number> = { '1.2.840.113549.1.1.1': 1, '1.2.840.10040.4.1': 2, '1.2.840.10045.2.1': 3, '1.3.101.112': 4 };

function rsaPublicKey(spki: ASN1Obj): { algorithm: number; key: { N: string; E: number } | undefined } {
  const [alg, bits] = seq(spki, 'SubjectPublicKeyInfo');
  const algorithm = PUBLIC_KEY_ALGORITHMS[seq(alg, 'AlgorithmIdentifier')[0]!.toOID()] ?? 0;
  if (algorithm !== 1) return { algorithm, key: undefined };
  if (!bits?.tag.isBitString() || bits.value[0] !== 0) fail('x509_decode: failed to parse subject public key info');
  const [n, e] = seq(ASN1Obj.parseBuffer(Buffer.from(bits.value.subarray(1))), 'RSAPublicKey');
  const N = n!.toInteger();
  const E = e!.toInteger();
  if (N <= 0n || E <= 0n || E > 0x7fffffffn) fail('x509_decode: failed to parse subject public key info');
  return { algorithm, key: { N: N.toString(10), E: Number(E) } };
}

const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1e]); // UTF8, Numeric, Printable, T61, IA5, BMP

function asn1String(o: ASN1Obj): string {
  if (!o.tag.isUniversal() || !STRING_TAGS.has(o.tag.number)) fail('x509_decode: unsupported string type in name');
  if (o.tag.number === 0x1e) {
    let s = '';
    for (let i = 0; i + 1 < o.value.length; i += 2) s += String.fromCharCode(o.value.readUInt16BE(i));
    return s;
  }
  if (o.tag.number === 0x14) return o.value.toString('latin1');
  return o.value.toString('utf8');
}

/** Go's pkix.Name after FillFromRDNSequence. */
function pkixName(name: ASN1Obj): Record<string, Json> {
  const out: Record<string, Json> = {
    Country: null,
    Organization: null,
    OrganizationalUnit: null,
    Locality: null,
    Province: null,
    StreetAddress: null,
    PostalCode: null,
    SerialNumber: '',
    CommonName: '',
    Names: null,
    ExtraNames: null,
  };
  const names: { Type: number[]; Value: string }[] = [];
  const lists: Record<string, string> = { '2.5.4.6': 'Country', '2.5.4.10': 'Organization', '2.5.4.11': 'OrganizationalUnit', '2.5.4.7': 'Locality', '2.5.4.8': 'Province', '2.5.4.9': 'StreetAddress', '2.5.4.17': 'PostalCode' };
  for (const rdn of seq(name, 'Name')) {
    if (rdn.tag.number !== 0x11) fail('x509_decode: malformed RDN');
    for (const atv of rdn.subs) {
      const [type, value] = seq(atv, 'AttributeTypeAndValue');
      const oid = type!.toOID();
      const v = asn1String(value!);
      names.push({ Type: oidInts(oid), Value: v });
      if (oid === '2.5.4.3') out['CommonName'] = v;
      else if (oid === '2.5.4.5') out['SerialNumber'] = v;
      else if (lists[oid]) out[lists[oid]] = [...((out[lists[oid]] as string[] | null) ?? []), v];
    }
  }
  if (names.length > 0) out['Names'] = names;
  return out;
}

function goTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

interface ParsedExtensions {
  list: { Id: number[]; Critical: boolean; Value: string }[];
  fields: Record<string, Json>;
}

const EXT_KEY_USAGE: Record<string, number> = {
  '2.5.29.37.0': 0,
  '1.3.6.1.5.5.7.3.1': 1,
  '1.3.6.1.5.5.7.3.2': 2,
  '1.3.6.1.5.5.7.3.3': 3,
  '1.3.6.1.5.5.7.3.4': 4,
  '1.3.6.1.5.5.7.3.5': 5,
  '1.3.6.1.5.5.7.3.6': 6,
  '1.3.6.1.5.5.7.3.7': 7,
  '1.3.6.1.5.5.7.3.8': 8,
  '1.3.6.1.5.5.7.3.9': 9,
  '1.3.6.1.4.1.311.10.3.3': 10,
  '2.16.840.1.113730.4.1': 11,
  '1.3.6.1.4.1.311.2.1.22': 12,
  '1.3.6.1.4.1.311.61.1.1': 13,
};
/** Extensions Go's parser understands; a critical one outside this set is "unhandled". */
const HANDLED = new Set(['2.5.29.15', '2.5.29.19', '2.5.29.17', '2.5.29.30', '2.5.29.31', '2.5.29.35', '2.5.29.37', '2.5.29.14', '2.5.29.32', '1.3.6.1.5.5.7.1.1']);

function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return [...b.subarray(12)].join('.');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    // Collapse the longest run of zero groups, as Go's net.IP.String does.
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return `?${b.toString('hex')}`;
}

/** Go's url.URL as encoding/json writes it (a plain struct). */
function goURL(s: string): Record<string, Json> {
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    fail(`x509_decode: cannot parse URI ${JSON.stringify(s)} in certificate`);
  }
  const opaque = !s.slice(u.protocol.length).startsWith('/');
  return {
    Scheme: u.protocol.replace(/:$/, ''),
    Opaque: opaque ? s.slice(u.protocol.length).split(/[?#]/)[0] : '',
    User: null,
    Host: opaque ? '' : u.host,
    Path: opaque ? '' : decodeURIComponent(/^[a-z][\w+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(s)?.[1] ?? ''),
    RawPath: '',
    OmitHost: false,
    ForceQuery: false,
    RawQuery: u.search.replace(/^\?/, ''),
    Fragment: decodeURIComponent(u.hash.replace(/^#/, '')),
    RawFragment: '',
  };
}

function generalNames(o: ASN1Obj, out: { dns: string[]; email: string[]; ip: string[]; uri: Record<string, Json>[] }): void {
  for (const gn of seq(o, 'GeneralNames')) {
    if (gn.tag.class !== 2) continue;
    switch (gn.tag.number) {
      case 1:
        out.email.push(gn.value.toString('latin1'));
        break;
      case 2:
        out.dns.push(gn.value.toString('latin1'));
        break;
      case 6:
        out.uri.push(goURL(gn.value.toString('latin1')));
        break;
      case 7:
        if (gn.value.length !== 4 && gn.value.length !== 16) fail('x509_decode: invalid IP address in SAN');
        out.ip.push(ipString(gn.value));
        break;
    }
  }
}

function parseExtensions(exts: ASN1Obj[]): ParsedExtensions {
  const list: ParsedExtensions['list'] = [];
  const f: Record<string, Json> = {};
  const san = { dns: [] as string[], email: [] as string[], ip: [] as string[], uri: [] as Record<string, Json>[] };
  const unhandled: number[][] = [];
  for (const ext of exts) {
    const parts = seq(ext, 'Extension');
    const oid = parts[0]!.toOID();
    const critical = parts.length === 3 ? parts[1]!.toBoolean() : false;
    const valueObj = parts[parts.length - 1]!;
    if (!valueObj.tag.isOctetString()) fail('x509_decode: malformed extension value');
    const value = Buffer.from(valueObj.value);
    list.push({ Id: oidInts(oid), Critical: critical, Value: value.toString('base64') });
    if (critical && !HANDLED.has(oid)) unhandled.push(oidInts(oid));
    const inner = (): ASN1Obj => ASN1Obj.parseBuffer(value as Buffer<ArrayBuffer>);
    switch (oid) {
      case '2.5.29.15': {
        const bs = inner();
        if (!bs.tag.isBitString()) fail('x509_decode: malformed key usage');
        let usage = 0;
        const bytes = bs.value.subarray(1);
        for (let i = 0; i < 9; i++) if (i < bytes.length * 8 && bytes[i >> 3]! & (0x80 >> (i & 7))) usage |= 1 << i;
        f['KeyUsage'] = usage;
        break;
      }
      case '2.5.29.19': {
        const bc = seq(inner(), 'BasicConstraints');
        let isCA = false;
        let maxPathLen = -1;
        for (const x of bc) {
          if (x.tag.isBoolean()) isCA = x.toBoolean();
          else if (x.tag.isInteger()) maxPathLen = Number(x.toInteger());
        }
        f['BasicConstraintsValid'] = true;
        f['IsCA'] = isCA;
        f['MaxPathLen'] = maxPathLen;
        f['MaxPathLenZero'] = maxPathLen === 0;
        break;
      }
      case '2.5.29.17':
        generalNames(inner(), san);
        break;
      case '2.5.29.14': {
        const ski = inner();
        if (!ski.tag.isOctetString()) fail('x509_decode: malformed subject key id');
        f['SubjectKeyId'] = b64(Buffer.from(ski.value));
        break;
      }
      case '2.5.29.35': {
        const kid = seq(inner(), 'AuthorityKeyIdentifier').find((x) => x.tag.isContextSpecific(0));
        if (kid) f['AuthorityKeyId'] = b64(Buffer.from(kid.value));
        break;
      }
      case '2.5.29.37': {
        const known: number[] = [];
        const unknown: number[][] = [];
        for (const k of seq(inner(), 'ExtKeyUsage')) {
          const o = k.toOID();
          if (EXT_KEY_USAGE[o] !== undefined) known.push(EXT_KEY_USAGE[o]);
          else unknown.push(oidInts(o));
        }
        if (known.length) f['ExtKeyUsage'] = known;
        if (unknown.length) f['UnknownExtKeyUsage'] = unknown;
        break;
      }
      case '2.5.29.32':
        f['PolicyIdentifiers'] = seq(inner(), 'CertificatePolicies').map((p) => oidInts(seq(p, 'PolicyInformation')[0]!.toOID()));
        break;
      case '2.5.29.31': {
        const uris: string[] = [];
        for (const dp of seq(inner(), 'CRLDistributionPoints')) {
          const name = dp.subs.find((x) => x.tag.isContextSpecific(0));
          const full = name?.subs.find((x) => x.tag.isContextSpecific(0));
          for (const gn of full?.subs ?? []) if (gn.tag.class === 2 && gn.tag.number === 6) uris.push(gn.value.toString('latin1'));
        }
        if (uris.length) f['CRLDistributionPoints'] = uris;
        break;
      }
      case '1.3.6.1.5.5.7.1.1': {
        for (const ad of seq(inner(), 'AuthorityInfoAccess')) {
          const [method, loc] = seq(ad, 'AccessDescription');
          if (!loc || loc.tag.class !== 2 || loc.tag.number !== 6) continue;
          const key = method!.toOID() === '1.3.6.1.5.5.7.48.1' ? 'OCSPServer' : method!.toOID() === '1.3.6.1.5.5.7.48.2' ? 'IssuingCertificateURL' : undefined;
          if (key) f[key] = [...((f[key] as string[] | undefined) ?? []), loc.value.toString('latin1')];
        }
        break;
      }
      case '2.5.29.30': {
        f['PermittedDNSDomainsCritical'] = critical;
        for (const sub of seq(inner(), 'NameConstraints')) {
          const which = sub.tag.isContextSpecific(0) ? 'Permitted' : sub.tag.isContextSpecific(1) ? 'Excluded' : undefined;
          if (!which) continue;
          for (const tree of sub.subs) {
            const base = tree.subs[0];
            if (!base || base.tag.class !== 2) continue;
            const push = (k: string, v: Json) => (f[k] = [...((f[k] as Json[] | undefined) ?? []), v]);
            if (base.tag.number === 2) push(`${which}DNSDomains`, base.value.toString('latin1'));
            else if (base.tag.number === 1) push(`${which}EmailAddresses`, base.value.toString('latin1'));
            else if (base.tag.number === 6) push(`${which}URIDomains`, base.value.toString('latin1'));
            else if (base.tag.number === 7 && (base.value.length === 8 || base.value.length === 32)) {
              const half = base.value.length / 2;
              push(`${which}IPRanges`, { IP: ipString(Buffer.from(base.value.subarray(0, half))), Mask: Buffer.from(base.value.subarray(half)).toString('base64') });
            }
          }
        }
        break;
      }
    }
  }
  if (san.dns.length) f['DNSNames'] = san.dns;
  if (san.email.length) f['EmailAddresses'] = san.email;
  if (san.ip.length) f['IPAddresses'] = san.ip;
  if (san.uri.length) f['URIs'] = san.uri;
  if (unhandled.length) f['UnhandledCriticalExtensions'] = unhandled;
  return { list, fields: f };
}

function decodeCertificate(der: Buffer): Record<string, Json> {
  const root = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  const [tbs, sigAlg, sig] = seq(root, 'Certificate');
  if (!tbs || !sigAlg || !sig?.tag.isBitString()) fail('x509_decode: malformed certificate');
  const t = seq(tbs, 'TBSCertificate');
  let i = 0;
  let version = 1;
  if (t[0]?.tag.isContextSpecific(0)) {
    version = Number(t[0].subs[0]!.toInteger()) + 1;
    i = 1;
  }
  const [serial, , issuer, validity, subject, spki] = t.slice(i, i + 6);
  if (!serial?.tag.isInteger() || !issuer || !validity || !subject || !spki) fail('x509_decode: malformed certificate');
  const [notBefore, notAfter] = seq(validity, 'Validity');
  const pk = rsaPublicKey(spki);
  if (pk.algorithm !== 1 || !pk.key) fail('certificate should use rsa algorithm');
  const extWrapper = t.slice(i + 6).find((x) => x.tag.isContextSpecific(3));
  const ext = extWrapper ? parseExtensions(seq(extWrapper.subs[0], 'Extensions')) : { list: [], fields: {} };
  const e = ext.fields;
  return {
    Raw: b64(der),
    RawTBSCertificate: b64(tbs.toDER()),
    RawSubjectPublicKeyInfo: b64(spki.toDER()),
    RawSubject: b64(subject.toDER()),
    RawIssuer: b64(issuer.toDER()),
    Signature: b64(Buffer.from(sig.value.subarray(1))),
    SignatureAlgorithm: signatureAlgorithm(sigAlg),
    PublicKeyAlgorithm: pk.algorithm,
    PublicKey: pk.key,
    Version: version,
    // Go's big.Int is a JSON number; Kyverno reads it back as a float64, as Number() does here.
    SerialNumber: Number(serial.toInteger()),
    Issuer: pkixName(issuer),
    Subject: pkixName(subject),
    NotBefore: goTime(notBefore!.toDate()),
    NotAfter: goTime(notAfter!.toDate()),
    KeyUsage: e['KeyUsage'] ?? 0,
    Extensions: ext.list.length ? ext.list : null,
    ExtraExtensions: null,
    UnhandledCriticalExtensions: e['UnhandledCriticalExtensions'] ?? null,
    ExtKeyUsage: e['ExtKeyUsage'] ?? null,
    UnknownExtKeyUsage: e['UnknownExtKeyUsage'] ?? null,
    BasicConstraintsValid: e['BasicConstraintsValid'] ?? false,
    IsCA: e['IsCA'] ?? false,
    MaxPathLen: e['MaxPathLen'] ?? 0,
    MaxPathLenZero: e['MaxPathLenZero'] ?? false,
    SubjectKeyId: e['SubjectKeyId'] ?? null,
    AuthorityKeyId: e['AuthorityKeyId'] ?? null,
    OCSPServer: e['OCSPServer'] ?? null,
    IssuingCertificateURL: e['IssuingCertificateURL'] ?? null,
    DNSNames: e['DNSNames'] ?? null,
    EmailAddresses: e['EmailAddresses'] ?? null,
    IPAddresses: e['IPAddresses'] ?? null,
    URIs: e['URIs'] ?? null,
    PermittedDNSDomainsCritical: e['PermittedDNSDomainsCritical'] ?? false,
    PermittedDNSDomains: e['PermittedDNSDomains'] ?? null,
    ExcludedDNSDomains: e['ExcludedDNSDomains'] ?? null,
    PermittedIPRanges: e['PermittedIPRanges'] ?? null,
    ExcludedIPRanges: e['ExcludedIPRanges'] ?? null,
    PermittedEmailAddresses: e['PermittedEmailAddresses'] ?? null,
    ExcludedEmailAddresses: e['ExcludedEmailAddresses'] ?? null,
    PermittedURIDomains: e['PermittedURIDomains'] ?? null,
    ExcludedURIDomains: e['ExcludedURIDomains'] ?? null,
    CRLDistributionPoints: e['CRLDistributionPoints'] ?? null,
    PolicyIdentifiers: e['PolicyIdentifiers'] ?? null,
  };
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

function decodeCertificateRequest(der: Buffer): Record<string, Json> {
  const root = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  const [info, sigAlg, sig] = seq(root, 'CertificationRequest');
  if (!info || !sigAlg || !sig?.tag.isBitString()) fail('x509_decode: malformed certificate request');
  const [version, subject, spki, attrs] = seq(info, 'CertificationRequestInfo');
  if (!version?.tag.isInteger() || !subject || !spki) fail('x509_decode: malformed certificate request');
  const pk = rsaPublicKey(spki);
  if (pk.algorithm !== 1 || !pk.key) fail('certificate should use rsa algorithm');
  let extList: ASN1Obj[] = [];
  const attributes: Json[] = [];
  for (const a of attrs?.subs ?? []) {
    const [type, values] = seq(a, 'Attribute');
    const oid = type!.toOID();
    if (oid === EXTENSION_REQUEST) extList = seq(values!.subs[0], 'Extensions');
    // Go's deprecated Attributes keeps only the values it can read as [][]AttributeTypeAndValue.
    try {
      attributes.push({ Type: oidInts(oid), Value: values!.subs.map((set) => set.subs.map((atv) => ({ Type: oidInts(atv.subs[0]!.toOID()), Value: atv.subs[1]!.tag.isOctetString() ? b64(Buffer.from(atv.subs[1]!.value)) : atv.subs[1]!.tag.isBoolean() ? atv.subs[1]!.toBoolean() : b64(Buffer.from(atv.subs[1]!.value)) }))) });
    } catch {
      // Not representable the way Go represents it; Go skips it too.
    }
  }
  const ext = parseExtensions(extList);
  const e = ext.fields;
  return {
    Raw: b64(der),
    RawTBSCertificateRequest: b64(info.toDER()),
    RawSubjectPublicKeyInfo: b64(spki.toDER()),
    RawSubject: b64(subject.toDER()),
    Version: Number(version.toInteger()),
    Signature: b64(Buffer.from(sig.value.subarray(1))),
    SignatureAlgorithm: signatureAlgorithm(sigAlg),
    PublicKeyAlgorithm: pk.algorithm,
    PublicKey: pk.key,
    Subject: pkixName(subject),
    Attributes: attributes.length ? attributes : null,
    Extensions: ext.list.length ? ext.list : null,
    ExtraExtensions: null,
    DNSNames: e['DNSNames'] ?? null,
    EmailAddresses: e['EmailAddresses'] ?? null,
    IPAddresses: e['IPAddresses'] ?? null,
    URIs: e['URIs'] ?? null,
  };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n((?:[^\r\n:]+:[^\r\n]*\r?\n)*\r?\n?)?([A-Za-z0-9+/=\r\n\t ]*?)-----END \1-----/;

/** Decodes the first PEM block of `input` as Kyverno's x509_decode does. */
export function x509Decode(input: string): Record<string, Json> {
  if (typeof input !== 'string') fail('x509_decode: expected a string');
  const m = PEM_BLOCK.exec(input);
  if (!m) fail('failed to decode PEM block');
  const der = Buffer.from(m[3]!.replace(/\s+/g, ''), 'base64');
  try {
    switch (m[1]) {
      case 'CERTIFICATE':
        return decodeCertificate(der);
      case 'CERTIFICATE REQUEST':
        return decodeCertificateRequest(der);
      default:
        return fail('PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST');
    }
  } catch (e) {
    if (e instanceof X509DecodeError) throw e;
    throw new X509DecodeError(`x509_decode: malformed ${m[1]!.toLowerCase()}: ${(e as Error).message}`);
  }
}
