import pytest

from elmtex.parsing import parse_json_object, strip_fences


def test_plain_json():
    assert parse_json_object('{"a": "b"}') == ({"a": "b"}, None)


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"a": "b"}\n```',
        '```\n{"a": "b"}\n```',
        'Here is the summary:\n```json\n{"a": "b"}\n```\nHope this helps.',
        'Sure! {"a": "b"} That is all.',
        '  \n{"a": "b"}\n\nNote: ages are approximate.',
    ],
)
def test_fences_and_prose_are_tolerated(text):
    assert parse_json_object(text) == ({"a": "b"}, None)


def test_braces_inside_strings():
    obj, err = parse_json_object('Answer: {"a": "x {y} z", "b": "N/A"}')
    assert err is None and obj == {"a": "x {y} z", "b": "N/A"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty response"),
        ("   ", "empty response"),
        ('{"a": "b", "c": "unterminated', "Unterminated string"),
        ("[1, 2]", "not an object"),
        ("I cannot help with that.", "Expecting value"),
    ],
)
def test_failures_are_returned_not_raised(text, fragment):
    obj, err = parse_json_object(text)
    assert obj is None and fragment in err


def test_unclosed_fence_is_stripped():
    assert strip_fences('```json\n{"a": 1') == '{"a": 1'
    assert parse_json_object('```json\n{"a": 1}')[0] == {"a": 1}
