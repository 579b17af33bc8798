"""RTSP: the streaming server of cameras, NVRs and DVRs.

Sends (probe): `OPTIONS rtsp://host:port/ RTSP/1.0` and `DESCRIBE rtsp://host:port/ RTSP/1.0`
(`Accept: application/sdp`), each on its own connection, without credentials. DESCRIBE usually answers
401 with a `WWW-Authenticate` realm, which is the evidence we want (Hikvision firmware says
`Digest realm="Hikvision"` or `IP Camera(XXXX)`, Dahua firmware `Basic realm="device"` plus its Server
header). Nothing is set up or played; no stream path is guessed.
Reads: one response per request, bounded by `ctx.max_bytes` and `ctx.timeout`.
Spec: RFC 2326 (RTSP 1.0). Safe: read-only, two requests.

Parser (`rtsp`): `rtsp.status`, `rtsp.reason`, `rtsp.header.<name>`, `rtsp.header_order`, `rtsp.realm`,
`rtsp.auth.scheme`, `rtsp.public` (methods, normalized to "A, B, C"), `rtsp.method` (from the request),
and the SDP session name `rtsp.sdp.session` when a DESCRIBE answer carries one.
"""

from __future__ import annotations

from trueorigin.model import Observation, Parsed, Status, Target
from trueorigin.probes.base import ProbeContext, probe_each_port, request_once
from trueorigin.probes.httpauth import auth_fields, parse_challenges
from trueorigin.probes.message import header_fields, split_message

# Field keys this module's parsers emit (besides the shared `device.*` keys): the field vocabulary that
# fingerprint rules may use is the union of every module's declaration (tests/test_field_vocabulary.py).
FIELDS: tuple[str, ...] = (
    "rtsp.status",
    "rtsp.reason",
    "rtsp.method",
    "rtsp.header_order",
    "rtsp.realm",
    "rtsp.auth.scheme",
    "rtsp.public",
)
FIELD_FAMILIES: tuple[str, ...] = ("rtsp.header.",)  # open-ended next component


PROTOCOL = "rtsp"
TCP_PORTS = (554, 8554)
USER_AGENT = "trueorigin/0.1 (equipment identification; read-only)"


def _sdp_session_name(body: bytes) -> str | None:
    for line in body[:16384].decode("utf-8", errors="replace").splitlines()[:200]:
        if line.startswith("s="):
            return line[2:].strip()[:256] or None
    return None


def parse_rtsp(data: bytes, request: str | None) -> Parsed:
    head = split_message(data, ("RTSP/",))
    if head is None:
        return Parsed.unparseable(PROTOCOL, "no RTSP status line")
    fields: dict[str, str] = {"rtsp.status": str(head.status), "rtsp.reason": head.reason}
    fields.update(header_fields("rtsp", head.headers))
    fields.update(auth_fields("rtsp", parse_challenges(v for n, v in head.headers if n == "www-authenticate")))
    public = [value for name, value in head.headers if name == "public"]
    if public:
        methods = [m.strip().upper() for m in ",".join(public).split(",") if m.strip()]
        fields["rtsp.public"] = ", ".join(methods[:64])
    if request and request.split():
        fields["rtsp.method"] = request.split()[0].upper()
    headers = dict(head.headers)
    if "application/sdp" in headers.get("content-type", "").lower():
        session = _sdp_session_name(head.body)
        if session:
            fields["rtsp.sdp.session"] = session
    return Parsed(protocol=PROTOCOL, fields=fields)


PARSERS = {PROTOCOL: parse_rtsp}


def build_request(method: str, url: str, cseq: int) -> bytes:
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    if method == "DESCRIBE":
        lines.append("Accept: application/sdp")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


async def probe_port(target: Target, port: int, ctx: ProbeContext) -> list[Observation]:
    host = target.hostname or target.address
    url = f"rtsp://{host}:{port}/"
    observations: list[Observation] = []
    for cseq, method in enumerate(("OPTIONS", "DESCRIBE"), start=1):
        data, status = await request_once(target.address, port, build_request(method, url, cseq), ctx)
        observations.append(
            Observation(
                host=target.address, protocol=PROTOCOL, data=data, port=port, request=f"{method} {url}", status=status
            )
        )
        if status in (Status.REFUSED, Status.TIMEOUT) and not data:
            break  # nothing to learn from a second request to a closed or silent port
    return observations


async def probe(target: Target, ctx: ProbeContext) -> list[Observation]:
    """RTSP OPTIONS and DESCRIBE on the target's port (or TCP_PORTS)."""
    return await probe_each_port(target, TCP_PORTS, ctx, probe_port)
