"""TLS certificates: the default certificate a device's firmware generates says who wrote that firmware.

Sends (probe): a TLS ClientHello (any version the device accepts, certificate NOT verified: we are
recording it, not trusting it), completes the handshake, reads nothing else and closes. The peer's leaf
certificate is stored as DER (`tls-cert`).
Spec: RFC 8446/5246 (handshake), RFC 5280 (certificates). Safe: no application data is exchanged.

Parser (`tls-cert`): PEM (one or more certificates, leaf first) or DER. Emits `tls.subject` /
`tls.issuer` (RFC 4514 strings, e.g. `CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,...`), their `cn`, `o`,
`ou`, `c` parts (repeats joined by newline), `tls.serial` (lower-case hex), `tls.not_before` /
`tls.not_after` (ISO 8601 UTC), `tls.sha256` (of the DER leaf), `tls.san` (DNS names and IPs, newline
separated) and `tls.self_signed` ("true" when subject equals issuer and the signature verifies with the
certificate's own key).
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import ProbeContext, close_stream, connect_error_status, open_stream, ports_to_probe

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "tls.subject",
    "tls.subject.cn",
    "tls.subject.o",
    "tls.subject.ou",
    "tls.subject.c",
    "tls.issuer",
    "tls.issuer.cn",
    "tls.issuer.o",
    "tls.issuer.ou",
    "tls.issuer.c",
    "tls.serial",
    "tls.not_before",
    "tls.not_after",
    "tls.sha256",
    "tls.san",
    "tls.self_signed",
)
FIELD_FAMILIES: tuple[str, ...] = ()  # open-ended next component


PROTOCOL = "tls-cert"
TCP_PORTS = (443, 8443, 7443)
MAX_INPUT = 256 * 1024

_NAME_PARTS = {
    "cn": NameOID.COMMON_NAME,
    "o": NameOID.ORGANIZATION_NAME,
    "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "c": NameOID.COUNTRY_NAME,
}


def _load_leaf(data: bytes) -> x509.Certificate | None:
    if b"-----BEGIN CERTIFICATE-----" in data:
        start = data.find(b"-----BEGIN CERTIFICATE-----")
        end = data.find(b"-----END CERTIFICATE-----", start)
        if end < 0:
            return None
        block = data[start : end + len(b"-----END CERTIFICATE-----")]
        return x509.load_pem_x509_certificate(block)
    return x509.load_der_x509_certificate(data)


def _name_fields(prefix: str, name: x509.Name) -> dict[str, str]:
    fields = {prefix: name.rfc4514_string()[:2048]}
    for part, oid in _NAME_PARTS.items():
        values = [str(attribute.value)[:256] for attribute in name.get_attributes_for_oid(oid)]
        if values:
            fields[f"{prefix}.{part}"] = "\n".join(values)
    return fields


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # unsupported key type, bad signature, or a CA-signed twin of the name: not self-signed
        return False
    return True


def _san(cert: x509.Certificate) -> str | None:
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        return None
    names = [str(name) for name in extension.value.get_values_for_type(x509.DNSName)]
    names += [str(address) for address in extension.value.get_values_for_type(x509.IPAddress)]
    return "\n".join(names[:100]) or None


def parse_tls_cert(data: bytes, request: str | None) -> Parsed:
    if len(data) > MAX_INPUT:
        return Parsed.unparseable(PROTOCOL, "certificate input larger than 256 KiB")
    try:
        cert = _load_leaf(data)
        if cert is None:
            return Parsed.unparseable(PROTOCOL, "PEM block without END line")
        der = cert.public_bytes(Encoding.DER)
        fields: dict[str, str] = {}
        fields.update(_name_fields("tls.subject", cert.subject))
        fields.update(_name_fields("tls.issuer", cert.issuer))
        fields["tls.serial"] = format(cert.serial_number, "x")
        fields["tls.not_before"] = cert.not_valid_before_utc.isoformat()
        fields["tls.not_after"] = cert.not_valid_after_utc.isoformat()
        fields["tls.sha256"] = hashlib.sha256(der).hexdigest()
        san = _san(cert)
        if san:
            fields["tls.san"] = san
        fields["tls.self_signed"] = "true" if _self_signed(cert) else "false"
    except Exception as error:  # cryptography raises ValueError and friends on malformed ASN.1
        return Parsed.unparseable(PROTOCOL, f"not an X.509 certificate: {type(error).__name__}")
    return Parsed(protocol=PROTOCOL, fields=fields)


PARSERS = {PROTOCOL: parse_tls_cert}


async def fetch_certificate(host: str, port: int, ctx: ProbeContext) -> tuple[bytes, Status]:
    """Handshake and return the peer's leaf certificate (DER); never raises on network errors."""
    try:
        _reader, writer = await open_stream(host, port, ctx, tls=True)
    except ssl.SSLError:
        return b"", Status.PROTOCOL_ERROR
    except (OSError, TimeoutError) as error:
        return b"", connect_error_status(error)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        return (der, Status.OK) if der else (b"", Status.PROTOCOL_ERROR)
    finally:
        with contextlib.suppress(Exception):
            await close_stream(writer)


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """Record the certificate shown on the target's port (or TCP_PORTS)."""
    ports = ports_to_probe(target, TCP_PORTS)
    observations: list[Observation] = []
    for port in ports:
        der, status = await fetch_certificate(target.address, port, ctx)
        observations.append(
            Observation(host=target.address, protocol=PROTOCOL, data=der, port=port, request="handshake", status=status)
        )
    return observations
