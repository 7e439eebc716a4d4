"""Certificates made with trustme, exported as the .pfx a VECOZO customer would upload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12


def pfx_from_leaf(leaf: trustme.LeafCert, password: str) -> bytes:
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    return pkcs12.serialize_key_and_certificates(
        b"systeemcertificaat",
        key,
        cert,
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )


def client_pfx(
    ca: trustme.CA, password: str = "geheim", *, days: int = 365, cn: str = "Zorg BV systeem"
) -> bytes:
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        "zorg.example.nl",
        common_name=cn,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=days),
    )
    return pfx_from_leaf(leaf, password)
