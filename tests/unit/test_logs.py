"""LOG_FORMAT and the two line formats: text for people, one JSON object a line for shippers."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from aftersales.settings import ConfigError, load_settings
from api import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, tortoise = logging.getLogger(), logging.getLogger("tortoise")
    handlers, levels = list(root.handlers), (root.level, tortoise.level)
    try:
        yield
    finally:  # what configure changed, as it was
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(levels[0])
        tortoise.setLevel(levels[1])
        logging.captureWarnings(False)


def test_log_format_is_text_unless_set() -> None:
    assert load_settings({}).log_format == "text"
    assert load_settings({"LOG_FORMAT": ""}).log_format == "text"


def test_log_format_json_is_read_whatever_its_case() -> None:
    assert load_settings({"LOG_FORMAT": "json"}).log_format == "json"
    assert load_settings({"LOG_FORMAT": " JSON "}).log_format == "json"


def test_any_other_log_format_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"LOG_FORMAT": "yaml"})

    assert str(raised.value) == "LOG_FORMAT must be 'text' or 'json', got 'yaml'"


def test_a_traceback_stays_inside_one_json_line(restore_logging: None) -> None:
    buffer = io.StringIO()
    logs.configure("json", stream=buffer)

    try:
        raise RuntimeError("the database went away\nin two lines")
    except RuntimeError:
        logging.getLogger("aftersales.test").exception("could not record a delivery")

    [line] = buffer.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "aftersales.test"
    assert entry["message"] == "could not record a delivery"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("RuntimeError: the database went away\nin two lines")
    assert "request_id" not in entry  # logged outside any request
    assert entry["time"].endswith("+00:00")


def test_a_text_line_with_a_traceback_keeps_the_request_id_on_its_first_line(
    restore_logging: None,
) -> None:
    buffer = io.StringIO()
    logs.configure("text", stream=buffer)
    token = logs.request_id.set("abc")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("aftersales.test").exception("failed")
    finally:
        logs.request_id.reset(token)

    first, *rest = buffer.getvalue().splitlines()
    assert first.endswith(" ERROR aftersales.test: failed [request_id=abc]")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: boom"


def test_configuring_again_replaces_the_handler_instead_of_doubling_lines(
    restore_logging: None,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.configure("text", stream=first)
    logs.configure("json", stream=second)

    logging.getLogger("aftersales.test").info("once")

    assert first.getvalue() == ""
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["once"]


def test_warnings_become_json_lines_too(restore_logging: None) -> None:
    buffer = io.StringIO()
    logs.configure("json", stream=buffer)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)

    [entry] = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert entry["logger"] == "py.warnings"
    assert "something is deprecated" in entry["message"]
