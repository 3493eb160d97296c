"""What a prompt and a response are: one check and one normaliser for every entry point.

A **prompt** is a non-empty string (not only white space) or a non-empty list of ``{"role", "content"}`` messages;
a **response** is a string (an empty one too: the judge gives its verdict on empty answers). Example files and
Python callers may give any value as a message's role and content (the judge renders it with ``str()``); the
server, stricter, takes strings only (``strict=True``). :func:`prompt_problem` says what is wrong, worded to follow
the name the caller gives the prompt (``prompts[3] message 1's 'role' must be a string, not null``), so every entry
point names the field and item its own way: the server by field and index, files by file, line and field.

The training adapters take prompts and completions in the conversational format, whose contents may be multimodal
parts; :func:`prompt_input` and :func:`completion_text` turn them into what the judge takes (messages with
plain-text content, a completion's text). ``integrations/verl.py`` keeps a standard-library copy of
:func:`prompt_input` and :func:`content_text` (it runs where activation-rm cannot be installed); its tests hold the
copy to these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")
Prompt = str | list[dict[str, Any]]

#: what a prompt must be, as the errors say it
PROMPT_FORMS = 'a non-empty string or a list of {"role", "content"} messages'
MESSAGE_KEYS = ("role", "content")


def kind_name(value: Any) -> str:
    """The name of a value's type as error messages show it: JSON's name for what JSON holds (``null``, ``a
    number``, ``an array`` ...), else the Python type's (``tuple``, ``ndarray``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _message_problem(message: Any, j: int) -> str | None:
    """Why message ``j`` of a prompt is not a ``{"role", "content"}`` object, or None."""
    if not isinstance(message, dict):
        return f"message {j} must be an object with 'role' and 'content', not {kind_name(message)}"
    missing = [key for key in MESSAGE_KEYS if key not in message]
    if missing:
        return (f"message {j} must be an object with 'role' and 'content', not an object without "
                + " and ".join(map(repr, missing)))
    return None


def prompt_problem(value: Any, *, strict: bool = False, text: Callable[[str], str | None] | None = None) -> str | None:
    """Why ``value`` is not a prompt, worded to follow its name (``is empty``, ``message 2 must be an object with
    'role' and 'content', not a string``), or None.

    ``strict``: each message's role and content must be strings (the server's rule; files and Python callers may
    give other values, which the judge renders with ``str()``). ``text``: a further check of each string in turn,
    worded to follow a name (``has 70000 characters; the limit is 65536``): a string prompt's, and with ``strict``
    each message's role and content (its problem then follows ``message j's 'content'``)."""
    if isinstance(value, str):
        if not value.strip():
            return "is empty"
        return text(value) if text else None
    if not isinstance(value, list) or not value:
        got = "an empty array" if isinstance(value, list) else kind_name(value)
        return f"must be {PROMPT_FORMS}, not {got}"
    for j, message in enumerate(value):
        problem = _message_problem(message, j)
        if problem:
            return problem
        for key in MESSAGE_KEYS if strict else ():
            if not isinstance(message[key], str):
                return f"message {j}'s {key!r} must be a string, not {kind_name(message[key])}"
            problem = text(message[key]) if text else None
            if problem:
                return f"message {j}'s {key!r} {problem}"
    return None


def check_prompt(value: Any, *, strict: bool = False) -> Prompt:
    """``value`` if it is a prompt (see :func:`prompt_problem`); else a ValueError such as ``prompt is empty``."""
    problem = prompt_problem(value, strict=strict)
    if problem:
        raise ValueError(f"prompt {problem}")
    return value


def response_problem(value: Any) -> str | None:
    """Why ``value`` is not a response (a string, an empty one too), worded to follow its name, or None."""
    return None if isinstance(value, str) else f"must be a string, got {type(value).__name__}"


def field_value(record: Mapping[str, Any], key: str, parse: Callable[[Any], _T]) -> _T:
    """``parse(record[key])``, its ValueError prefixed with the field (``field 'prompt': prompt is empty``) so a bad
    line says which value is wrong; a ValueError ``missing field 'prompt'`` without it."""
    if key not in record:
        raise ValueError(f"missing field {key!r}")
    try:
        return parse(record[key])
    except ValueError as err:
        raise ValueError(f"field {key!r}: {err}") from None


def text_field(record: Mapping[str, Any], key: str) -> str:
    """The response (or other text) ``record[key]``; a ValueError naming the field when it is missing or not a
    string (``field 'response' must be a string, got int``)."""
    if key not in record:
        raise ValueError(f"missing field {key!r}")
    problem = response_problem(record[key])
    if problem:
        raise ValueError(f"field {key!r} {problem}")
    return record[key]


# ------------------------------------------------------------------------- the training adapters' formats
def content_text(content: Any) -> str:
    """A message's content as text: a string as it is, multimodal parts (a list or tuple) as their text parts
    joined (image parts dropped), nothing (None) as ``""``, anything else with ``str()``."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def prompt_input(value: Any) -> Prompt:
    """A prompt as the judge takes it: a string as it is; messages (a list, a tuple, or an array of dicts as Arrow
    and Parquet hand them back) as ``{"role", "content"}`` dicts with the role as a string (``"user"`` when missing)
    and the content as its text (:func:`content_text`). Anything else is a TypeError; the result is not checked
    (an empty string stays empty): :func:`check_prompt` does that."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"prompt must be a string or a list of messages, got {type(value).__name__}")
    messages = []
    for j, message in enumerate(value):
        if not isinstance(message, Mapping):
            raise TypeError(f"prompt message {j} must be a dict with 'role' and 'content', "
                            f"got {type(message).__name__}")
        messages.append({"role": str(message.get("role", "user")), "content": content_text(message.get("content"))})
    return messages


def completion_text(completion: Any) -> str:
    """A completion as plain text: a string as it is, one message as its content's text, a messages list as its
    assistant turns' texts joined with newlines."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return content_text(completion.get("content"))
    if isinstance(completion, Sequence):
        turns = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "\n".join(content_text(m.get("content")) for m in turns)
    raise TypeError(f"completion must be a string or a list of messages, got {type(completion).__name__}")
