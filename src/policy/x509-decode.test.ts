import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryJmesPath } from './jmespath.js';
import { x509Decode, X509DecodeError } from './x509-decode.js';

// Fixtures made with openssl (test/policy/fixtures/x509): an RSA server certificate with most
// extensions Go's parser reads, a CSR with a SAN, and an EC certificate (refused, as in Kyverno).
const dir = join(import.meta.dirname, '../../test/policy/fixtures/x509');
const rsaPem = readFileSync(join(dir, 'rsa-server.pem'), 'utf8');
const csrPem = readFileSync(join(dir, 'rsa-request.csr'), 'utf8');
const ecPem = readFileSync(join(dir, 'ec.pem'), 'utf8');

describe('x509_decode', () => {
  const node = new X509Certificate(rsaPem);
  const jwk = node.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const d = x509Decode(rsaPem);

  it('has the Go x509.Certificate field set and order Kyverno returns', () => {
    expect(Object.keys(d)).toEqual([
      'Raw', 'RawTBSCertificate', 'RawSubjectPublicKeyInfo', 'RawSubject', 'RawIssuer', 'Signature', 'SignatureAlgorithm', 'PublicKeyAlgorithm', 'PublicKey',
      'Version', 'SerialNumber', 'Issuer', 'Subject', 'NotBefore', 'NotAfter', 'KeyUsage', 'Extensions', 'ExtraExtensions', 'UnhandledCriticalExtensions',
      'ExtKeyUsage', 'UnknownExtKeyUsage', 'BasicConstraintsValid', 'IsCA', 'MaxPathLen', 'MaxPathLenZero', 'SubjectKeyId', 'AuthorityKeyId', 'OCSPServer',
      'IssuingCertificateURL', 'DNSNames', 'EmailAddresses', 'IPAddresses', 'URIs', 'PermittedDNSDomainsCritical', 'PermittedDNSDomains', 'ExcludedDNSDomains',
      'PermittedIPRanges', 'ExcludedIPRanges', 'PermittedEmailAddresses', 'ExcludedEmailAddresses', 'PermittedURIDomains', 'ExcludedURIDomains',
      'CRLDistributionPoints', 'PolicyIdentifiers',
    ]);
  });

  it('decodes the values as Go does (cross-checked with node:crypto)', () => {
    expect(d['Raw']).toBe(node.raw.toString('base64'));
    expect(d['Version']).toBe(3);
    expect(d['SerialNumber']).toBe(Number(BigInt(`0x${node.serialNumber}`)));
    expect(d['SignatureAlgorithm']).toBe(4); // SHA256WithRSA
    expect(d['PublicKeyAlgorithm']).toBe(1); // RSA
    expect(d['PublicKey']).toEqual({ N: BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`).toString(10), E: 65537 });
    expect(d['NotBefore']).toBe(new Date(node.validFrom).toISOString().replace('.000Z', 'Z'));
    expect(d['NotAfter']).toBe(new Date(node.validTo).toISOString().replace('.000Z', 'Z'));
    expect(d['Subject']).toEqual({
      Country: ['DE'], Organization: ['Duallane Test'], OrganizationalUnit: ['Policy'], Locality: null, Province: null, StreetAddress: null, PostalCode: null,
      SerialNumber: '', CommonName: 'webhook.duallane.svc',
      Names: [{ Type: [2, 5, 4, 6], Value: 'DE' }, { Type: [2, 5, 4, 10], Value: 'Duallane Test' }, { Type: [2, 5, 4, 11], Value: 'Policy' }, { Type: [2, 5, 4, 3], Value: 'webhook.duallane.svc' }],
      ExtraNames: null,
    });
    expect(d['KeyUsage']).toBe(1 | 4); // digitalSignature | keyEncipherment
    expect(d['ExtKeyUsage']).toEqual([1, 2]); // ServerAuth, ClientAuth
    expect(d).toMatchObject({ BasicConstraintsValid: true, IsCA: false, MaxPathLen: -1, MaxPathLenZero: false, UnhandledCriticalExtensions: null, ExtraExtensions: null });
    expect(d['DNSNames']).toEqual(['webhook.duallane.svc', 'localhost']);
    expect(d['IPAddresses']).toEqual(['127.0.0.1', '::1']);
    expect(d['EmailAddresses']).toEqual(['ops@example.com']);
    expect(d['URIs']).toEqual([{ Scheme: 'spiffe', Opaque: '', User: null, Host: 'duallane', Path: '/ns/web', RawPath: '', OmitHost: false, ForceQuery: false, RawQuery: '', Fragment: '', RawFragment: '' }]);
    expect(d['OCSPServer']).toEqual(['http://ocsp.example.com']);
    expect(d['IssuingCertificateURL']).toEqual(['http://ca.example.com/ca.crt']);
    expect(d['CRLDistributionPoints']).toEqual(['http://crl.example.com/ca.crl']);
    expect(d['PolicyIdentifiers']).toEqual([[2, 23, 140, 1, 2, 1]]);
    expect(typeof d['SubjectKeyId']).toBe('string');
    expect(d['AuthorityKeyId']).toBeNull(); // openssl leaves it out of a self-signed certificate
    expect((d['Extensions'] as { Id: number[] }[]).map((e) => e.Id.join('.'))).toContain('2.5.29.17');
  });

  it('decodes a CERTIFICATE REQUEST into x509.CertificateRequest fields', () => {
    const r = x509Decode(csrPem);
    expect(Object.keys(r)).toEqual(['Raw', 'RawTBSCertificateRequest', 'RawSubjectPublicKeyInfo', 'RawSubject', 'Version', 'Signature', 'SignatureAlgorithm', 'PublicKeyAlgorithm', 'PublicKey', 'Subject', 'Attributes', 'Extensions', 'ExtraExtensions', 'DNSNames', 'EmailAddresses', 'IPAddresses', 'URIs']);
    expect(r).toMatchObject({ Version: 0, PublicKeyAlgorithm: 1, DNSNames: ['req.duallane.svc'], Subject: { CommonName: 'req.duallane.svc' } });
    expect(r['PublicKey']).toEqual(d['PublicKey']);
  });

  it('is reachable from JMESPath, also after base64_decode, as Kyverno policies use it', () => {
    const b64 = Buffer.from(rsaPem).toString('base64');
    expect(queryJmesPath('x509_decode(base64_decode(cert)).Subject.CommonName', { cert: b64 })).toBe('webhook.duallane.svc');
    expect(queryJmesPath("x509_decode(cert).NotAfter", { cert: rsaPem })).toBe(d['NotAfter']);
  });

  it('refuses what Kyverno refuses, with its messages', () => {
    expect(() => x509Decode(ecPem)).toThrow('certificate should use rsa algorithm');
    expect(() => x509Decode('not a pem')).toThrow('failed to decode PEM block');
    expect(() => x509Decode('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toThrow('PEM block neither contains a CERTIFICATE or CERTIFICATE REQUEST');
    expect(() => x509Decode('-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----')).toThrow(X509DecodeError);
  });
});
