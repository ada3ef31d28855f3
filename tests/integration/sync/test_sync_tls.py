"""TLS: certificate verification is on by default; an endpoint can be given the CA bundle to trust."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from desktop.demo.simulator import FieldSimulator
from desktop.domain.roles import Role
from desktop.services import sync as sync_service
from desktop.services.core.context import AppContext
from desktop.sync.client import EndpointCertificateError
from tests.helpers.ingest_helpers import SYSTEM, citation_numbers


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Curbdesk test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


@pytest.fixture
def tls_sim(tmp_path: Path) -> tuple[FieldSimulator, Path]:
    ca, cert, key = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    sim = FieldSimulator(devices=2, citations=4, token="tls", photo_size=(48, 36), ssl_context=context)
    sim.start()
    yield sim, ca
    sim.stop()


def test_an_untrusted_certificate_is_refused_and_a_configured_ca_is_trusted(
        app: AppContext, actors: dict[Role, object], tls_sim: tuple[FieldSimulator, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # an office machine's own CA setting must not override the bundle configured for the endpoint
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    sim, ca = tls_sim
    assert sim.base_url.startswith("https://")
    endpoint_id, _ = sync_service.save_endpoint(app, SYSTEM, None, name="TLS gateway", url=sim.base_url)
    with pytest.raises(EndpointCertificateError, match="did not present a certificate we trust"):
        sync_service.sync_now(app, SYSTEM, endpoint_id, token="tls", client_options={"max_retries": 0})
    assert citation_numbers(app) == []
    sync_service.save_endpoint(app, SYSTEM, endpoint_id, name="TLS gateway", url=sim.base_url, ca_bundle=str(ca))
    summary = sync_service.sync_now(app, SYSTEM, endpoint_id, token="tls")
    assert summary.stats.citations == 4 and set(citation_numbers(app)) == sim.valid_citation_numbers
