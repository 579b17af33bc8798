"""Build tests/data/accuracy/recog.yaml from a checkout of rapid7/recog: real device answers labelled with maker.

Recog's fingerprint files carry `<example>` strings taken from real devices, each under a fingerprint that names
the maker (`hw.vendor`, else `os.vendor`, else `service.vendor`). trueorigin does not use recog's patterns; the
examples are a labelled corpus of self-descriptions to measure identification on (bench/accuracy.py).

    python bench/recog_corpus.py /path/to/recog > tests/data/accuracy/recog.yaml
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from defusedxml import ElementTree

# recog file -> the protocol answer an example stands for (bench/accuracy.py rebuilds the observation)
FILES = {
    "snmp_sysdescr.xml": "snmp.sysdescr",
    "sip_banners.xml": "sip.header.server",
    "sip_user_agents.xml": "sip.header.user-agent",
    "ftp_banners.xml": "ftp.banner",
    "telnet_banners.xml": "telnet.banner",
    "ssh_banners.xml": "ssh.software",
    "http_servers.xml": "http.header.server",
    "html_title.xml": "http.title",
    "http_wwwauth.xml": "http.header.www-authenticate",
    "dhcp_vendor_class.xml": "dhcp.vendor_class",
    "rtsp_servers.xml": "rtsp.header.server",
}
LABEL_KEYS = ("hw.vendor", "os.vendor", "service.vendor")


def main(root: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    out: list[dict[str, str]] = []
    for name, answer in FILES.items():
        path = root / "xml" / name
        tree = ElementTree.parse(path)
        for fp in tree.getroot().iter("fingerprint"):
            params = {p.get("name"): p.get("value") for p in fp.iter("param") if p.get("value")}
            label = next((params[k] for k in LABEL_KEYS if params.get(k)), None)
            if not label or "{" in label:
                continue
            for example in fp.iter("example"):
                if example.get("_encoding") == "base64" or not (example.text or "").strip():
                    continue
                text = " ".join((example.text or "").split())
                out.append(
                    {
                        "answer": answer,
                        "value": text,
                        "maker": label,
                        "label_from": next(k for k in LABEL_KEYS if params.get(k)),
                        "recog": f"xml/{name}: {fp.get('pattern', '')[:80]}",
                    }
                )
    header = (
        f"# Real device answers from rapid7/recog @{commit} (examples of xml/*.xml), labelled with the maker recog\n"
        "# names (hw.vendor, else os.vendor, else service.vendor). Built by bench/recog_corpus.py; read by\n"
        "# bench/accuracy.py. Source: https://github.com/rapid7/recog (BSD-2-Clause data).\n"
    )
    sys.stdout.write(header + yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=200))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
