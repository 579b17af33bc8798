"""The package's foundation: CLI entry point, core types and the protocol registry."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from trueorigin.cli import app
from trueorigin.model import Identification, Observation


def test_cli_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("trueorigin ")


def test_observation_round_trips_binary_data_as_base64() -> None:
    obs = Observation(host="127.0.0.1", protocol="dhip", data=b"\x20\x00\x00\x00DHIP\xff", port=37810)
    line = obs.to_json()
    assert line["encoding"] == "base64"
    assert json.loads(json.dumps(line))["port"] == 37810


def test_identification_json_has_the_contract_keys() -> None:
    ident = Identification(host="h", vendor="Hikvision", brand="Acme", covered="yes", regimes=("ndaa-889",))
    keys = set(ident.to_json())
    assert {
        "host",
        "vendor",
        "brand",
        "covered",
        "regimes",
        "model",
        "firmware",
        "kind",
        "cves",
        "confidence",
        "evidence",
    } <= keys
