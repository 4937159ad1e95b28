"""Throwaway C2PA signing, offline: an EC P-256 CA and a signer certificate made with `cryptography` (what
c2pa-rs asks of a signer: not a CA, digitalSignature, emailProtection, key identifiers), and a function that
signs a picture's bytes with c2pa-python's Builder. For the tests and the fuzzer's seeds; no trust list knows
this CA, so what it signs reads back "Valid" with signingCredential.untrusted."""
from __future__ import annotations

import datetime
import io

GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def make_credentials(org: str = "Throwaway Test Org") -> tuple[bytes, bytes]:
    """(PEM chain signer-then-CA, PEM private key) valid from yesterday for 30 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])

    def usage(**on):
        keys = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
        return x509.KeyUsage(**{k: on.get(k, False) for k in keys})

    now = datetime.datetime.now(datetime.timezone.utc)
    days = datetime.timedelta(days=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Throwaway CA")).issuer_name(name("Throwaway CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - days).not_valid_after(now + 30 * days)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("Throwaway Signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - days).not_valid_after(now + 30 * days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    chain = cert.public_bytes(pem) + ca.public_bytes(pem)
    return chain, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def manifest(source_type: str | None = GENERATED, actions=None, tool: str = "ThrowawayGen") -> dict:
    acts = actions or [{"action": "c2pa.created", **({"digitalSourceType": source_type} if source_type else {})}]
    return {"claim_generator_info": [{"name": tool, "version": "1.0"}], "title": "test picture",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": acts}}]}


def sign(data: bytes, mime: str, credentials: tuple[bytes, bytes], manifest_json: dict | None = None) -> bytes:
    """The picture's bytes with a signed manifest embedded (no time-stamp server: offline)."""
    import c2pa

    chain, key = credentials
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
    out = io.BytesIO()
    with c2pa.Builder(manifest_json or manifest()) as builder:
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()
