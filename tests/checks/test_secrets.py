"""Secret detection (compiler/checks/secrets.py): secret-like names and values, credentials never inlined."""

from __future__ import annotations

import pytest

from compiler.checks import secrets as sensitive
from compiler.pipeline import compile_file
from tests.support.cli import cli_run
from tests.support.workflows import VALID, codes

# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "NGC_API_KEY",
        "SSH_PRIVATE_KEY",
        "CLIENT_SECRET",
        "APIKEY",
        "my-secret",
        "WANDB_API_KEY",
        "ACCESS_KEY",
        "AUTH_TOKEN",
        "SECRET",
    ],
)
def test_secret_like_names(name):
    assert sensitive.secret_like_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "MAX_TOKENS",
        "TOKENIZER",
        "TOKENIZER_PATH",
        "HF_TOKEN_FILE",
        "SECRET_NAME",
        "PASSWORD_FILE",
        "KEY",
        "MONKEY",
        "PATH",
        "HOME",
        "PWD",
        "NUM_KEYS",
        "API_URL",
        "CUDA_VISIBLE_DEVICES",
        "PRIMARY_KEY_COLUMN",
    ],
)
def test_names_that_are_not_secrets(name):
    assert not sensitive.secret_like_name(name)


@pytest.mark.parametrize(
    "value,secret",
    [
        ("hf_abcdefghijklmnop", True),
        ("hunter2hunter2", True),
        ("Bearer abc.def.ghi", True),
        ("", False),
        ("short", False),
        (12345678901, False),
        (True, False),
        (None, False),
        ("{{input:0}}/token", False),
        ("$(HF_TOKEN)", False),
        ("{{output}}/secret.txt", False),
        ("{{output}}abcdefghijkl", True),
    ],
)
def test_literal_secret_values(value, secret):
    assert sensitive.literal_secret(value) is secret


def test_secret_in_environment_is_an_error(write_workflow):
    text = VALID.replace(
        "  - name: b\n",
        "  - name: b\n    environment:\n      HF_TOKEN: hf_abcdefghijklmnopqrstuvwx\n      MAX_TOKENS: '4096'\n",
    )
    path = write_workflow(text)
    result = compile_file(path)
    assert codes(result) == ["V350"]
    d = result.diagnostics[0]
    assert (d.line, d.column) == (9, 17) and "credentials" in d.hint
    assert not result.documents
    r = cli_run(["compile", path])
    assert r.exit_code == 1 and "hf_abcdefghijklmnopqrstuvwx" not in r.stdout


def test_secret_from_jinja_values_is_caught(write_workflow):
    text = VALID.replace("  - name: b\n", '  - name: b\n    environment:\n      DB_PASSWORD: "{{ pw }}"\n')
    result = compile_file(write_workflow(text + "default-values:\n  pw: correct-horse-battery\n"))
    assert codes(result) == ["V350"]
    ok = compile_file(write_workflow(text + "default-values:\n  pw: ''\n"))
    assert not ok.has_errors


def test_credential_values_are_never_inlined(write_workflow):
    marker = "cred-key-MARKER-3141"
    text = VALID.replace(
        "  - name: b\n",
        f"  - name: b\n    credentials:\n      my_cred:\n        HF_TOKEN: {marker}\n"
        "      other_cred: /mnt/MARKER-mount\n",
    )
    result = compile_file(write_workflow(text))
    for document in result.documents:  # credentials may be refused (U401) or mapped to secret references
        for env in (e for t in document["spec"]["templates"] for e in t.get("container", {}).get("env", [])):
            assert "value" not in env or marker not in env["value"]
