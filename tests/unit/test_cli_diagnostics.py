"""How `mailinfra drift` / `promote` say why a `pulumi` command failed: the engine's error diagnostics, one line
per failed resource, without the engine's and gRPC's wrappers or a Python traceback (issue 25, item 2)."""

from __future__ import annotations

from mailinfra_cli.pulumi_cli import diagnostics_text

URN = "urn:pulumi:dev::shop::pulumi-python:dynamic/greenarrow:RelayServer::{}"
STACK = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"


def diagnostic(urn: str, message: str, severity: str = "error") -> dict[str, object]:
    return {"diagnosticEvent": {"urn": urn, "severity": severity, "message": message}}


def test_each_failed_resource_once_with_its_error() -> None:
    events = [
        diagnostic(URN.format("edge"), "Exception calling application: greenarrow GET /relay_servers/1 failed "
                                       "(HTTP 401, unauthorized): invalid username or password\n"),
        diagnostic(URN.format("edge"), "Exception calling application: greenarrow GET /relay_servers/1 failed "
                                       "(HTTP 401, unauthorized): invalid username or password\n"),
        diagnostic(URN.format("edge"), "a debug line", severity="debug"),
        diagnostic(STACK, "preview failed"),
    ]
    assert diagnostics_text(events) == ("RelayServer 'edge': greenarrow GET /relay_servers/1 failed (HTTP 401, "
                                        "unauthorized): invalid username or password")


def test_a_traceback_is_reduced_to_its_last_line() -> None:
    traceback = ("Preview failed: Traceback (most recent call last):\n  File \"/x/provider.py\", line 3, in read\n"
                 "    raise ApiError(...)\npulumi_mailinfra.errors.ApiError: cleanmail PATCH /policies/1 failed\n")
    assert diagnostics_text([diagnostic(URN.format("b"), traceback)]) == (
        "RelayServer 'b': pulumi_mailinfra.errors.ApiError: cleanmail PATCH /policies/1 failed")


def test_a_stack_level_error_keeps_its_words() -> None:
    events = [diagnostic(STACK, "error: deployment gate: Elemta queues deferred 3 > 2\n")]
    assert diagnostics_text(events) == "deployment gate: Elemta queues deferred 3 > 2"


def test_a_drifted_list_shows_what_was_added_and_removed() -> None:
    """Issue 25, item 7: a list resource's drift row was a cut-off JSON list."""
    from mailinfra_cli.drift import ResourceDrift, StackDrift, changed_fields, render_table

    before = {"names": ["a.example", "b.example", "c.example"]}
    after = {"names": ["a.example", "c.example", "d.example", "e.example"]}
    changes = changed_fields(before, after)
    assert [(c.path, c.removed, c.added) for c in changes] == [("names", ["b.example"], ["d.example", "e.example"])]
    drift = ResourceDrift("urn:pulumi:dev::p::cleanmail:DomainAliases::aliases", "cleanmail:DomainAliases",
                          "aliases", "update", changes)
    table = render_table([StackDrift("dev", "drift", [drift])])
    assert "-b.example" in table and "+d.example, +e.example" in table


def test_help_summaries_are_whole_sentences() -> None:
    """Issue 25, item 7: `mailinfra --help` cut a command's summary mid-sentence ("...; nothing is")."""
    from mailinfra_cli.main import COMMANDS, build_parser, first_sentence

    for module in COMMANDS.values():
        summary = first_sentence(module.__doc__ or "")
        assert summary.endswith(".") and summary.count("(") == summary.count(")"), summary
    assert "nothing is written)." in " ".join(build_parser().format_help().split())


def test_a_failed_promotion_claims_no_comparison_or_preview() -> None:
    """Issue 25, item 5: with the target's config invalid, promote printed the error and then "configuration: the
    same in both stacks" and "target preview: no changes", both false."""
    from mailinfra_cli.promote import Promotion, render

    failed = render(Promotion("staging", "prod", status="failed", reason="prod: mailinfra:cleanmailUrl: bad URL"))
    assert failed.splitlines() == ["promote staging -> prod: failed", "error: prod: mailinfra:cleanmailUrl: bad URL"]
    previewed = render(Promotion("staging", "prod", status="previewed"))
    assert "configuration: the same in both stacks" in previewed and "target preview: no changes" in previewed


def test_a_failed_step_is_said_in_one_line() -> None:
    """`error:  stderr: error: validating stack config: ...` became `validating stack config: ...`."""
    from mailinfra_cli.pulumi_cli import error_lines

    said = ("Previewing update (prod):\nerror: validating stack config: Stack 'prod' with configuration key 'count' "
            "must be of type 'integer'\n")
    assert error_lines(said) == ("validating stack config: Stack 'prod' with configuration key 'count' must be of "
                                 "type 'integer'")
    assert error_lines("something odd\nthe end") == "the end"


def test_a_changed_secret_is_drift_though_every_secret_shows_the_same_mask() -> None:
    """Review of issue 25: skipping updates with no visible field hid a changed secret (both sides `[secret]`)."""
    from mailinfra_cli.drift import drift_of

    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "x"}
    event = {"resOutputsEvent": {"metadata": {
        "op": "update", "urn": URN.format("edge"), "type": "pulumi-python:dynamic/greenarrow:RelayServer",
        "old": {"outputs": {"destination": {"password": secret}}},
        "new": {"outputs": {"destination": {"password": {**secret, "ciphertext": "y"}}}}}}}
    found = drift_of([event])
    assert [(d.name, [f.path for f in d.fields]) for d in found] == [("edge", ["(a secret value)"])]
