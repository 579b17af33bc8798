"""Credentials files: formats, target matching, errors that never quote secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueorigin.errors import InputError
from trueorigin.probes.base import Credential
from trueorigin.scan.credentials import load_credentials, parse_credentials

SECRET = "pw-7f3a-not-for-logs"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param(
            "creds.yaml",
            f"- targets: [198.18.0.0/24]\n  username: auditor\n  password: {SECRET}\n  snmp_community: c1\n",
            id="yaml-list",
        ),
        pytest.param(
            "creds.yml",
            f"credentials:\n  - cidr: 198.18.0.0/24\n    username: auditor\n    password: {SECRET}\n"
            "    snmp_community: c1\n",
            id="yaml-mapping-cidr",
        ),
        pytest.param(
            "creds.json",
            json.dumps(
                [{"targets": "198.18.0.1-254", "username": "auditor", "password": SECRET, "snmp_community": "c1"}]
            ),
            id="json",
        ),
        pytest.param(
            "creds.csv",
            f"targets,username,password,snmp_community\n198.18.0.0/24,auditor,{SECRET},c1\n",
            id="csv",
        ),
    ],
)
def test_formats_give_the_same_book(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    book = load_credentials(path)
    assert book.for_host("198.18.0.9") == (Credential("auditor", SECRET),)
    assert book.snmp_communities("198.18.0.9") == ("c1",)
    assert book.for_host("198.18.1.9") == () and book.snmp_communities("198.18.1.9") == ()
    assert SECRET not in repr(book)
    assert book.secrets() == {SECRET, "c1"}


def test_entries_apply_in_file_order() -> None:
    book = parse_credentials(
        "- {targets: [198.18.0.5], username: a, password: p1}\n"
        "- {targets: [198.18.0.0/24], username: b, password: p2}\n",
        "yaml",
    )
    assert [c.username for c in book.for_host("198.18.0.5")] == ["a", "b"]
    assert [c.username for c in book.for_host("198.18.0.6")] == ["b"]


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        pytest.param(f"- targets: [x\n  password: {SECRET}", "yaml", "not valid YAML", id="yaml-syntax"),
        pytest.param(f'[{{"password": "{SECRET}",}}]', "json", "not valid JSON", id="json-syntax"),
        pytest.param(f"- {{username: a, password: {SECRET}}}", "yaml", "missing 'targets'", id="no-targets"),
        pytest.param("- {targets: [198.18.0.1], username: a}", "yaml", "both be non-empty", id="no-password"),
        pytest.param("- {targets: [198.18.0.1]}", "yaml", "needs username/password", id="nothing-to-use"),
        pytest.param("user,pass\na,b\n", "csv", "header row", id="csv-without-targets"),
        pytest.param("just text", "yaml", "must be a list", id="not-a-list"),
        pytest.param(
            f"- {{targets: [nonsense!], username: a, password: {SECRET}}}",
            "yaml",
            "must be addresses, CIDRs or ranges",
            id="bad-target",
        ),
    ],
)
def test_errors_are_input_errors_without_secrets(text: str, fmt: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_credentials(text, fmt)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None or SECRET not in str(caught.value.__cause__)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["yaml", "json", "csv"]))
def test_any_text_is_a_book_or_an_input_error(text: str, fmt: str) -> None:
    try:
        book = parse_credentials(text, fmt)
    except InputError:
        return
    assert all(isinstance(c, Credential) for e in book.entries for c in ([e.credential] if e.credential else []))
