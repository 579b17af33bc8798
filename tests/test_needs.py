"""A missing tool skips a test on a developer's machine and fails it under CI."""

from __future__ import annotations

import pytest

from needs import missing, require, require_tool


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        pytest.param("true", pytest.fail.Exception, id="ci-fails"),
        pytest.param("", pytest.skip.Exception, id="local-skips"),
    ],
)
def test_a_missing_tool_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no-such-tool-trueorigin not found"):
        require_tool("no-such-tool-trueorigin", install="apt-get install nothing")
    with pytest.raises(outcome, match="needs a namespace"):
        require(False, "needs a namespace")
    with pytest.raises(outcome):
        missing("anything")


def test_a_present_tool_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert require_tool("no-such-tool-trueorigin", "sh", install="-").endswith("/sh")
    require(True, "never raised")
