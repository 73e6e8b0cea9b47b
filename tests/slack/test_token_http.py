"""Slack failing when Cadence first checks its token is an outage, not an uninstall: nobody is told to
reinstall, and the command can be sent again once Slack answers."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.payloads import post, post_command, sign, slash_command


def test_a_slack_outage_at_the_first_request_says_try_again_not_reinstall(slack_url, fake_slack):
    fake_slack.respond_with(
        "auth.test", lambda call: (503, {"ok": False, "error": "service_unavailable"}, {})
    )
    answer = post_command(slack_url, "/who-owns", "SAE")
    assert answer.status == 200
    assert "Slack did not answer Cadence just now, so nothing was done" in answer.text
    assert "reinstall" not in answer.text.lower()
    fake_slack.respond_with(
        "auth.test",
        lambda call: (
            200,
            {"ok": True, "user_id": "UBOTCADENCE", "bot_id": "BCADENCE", "team_id": "T0SPONSOR"},
            {},
        ),
    )
    assert "owned by <@U02MEI>" in post_command(slack_url, "/who-owns", "SAE").text
    post_command(slack_url, "/who-owns", "SAE")
    assert len(fake_slack.calls_to("auth.test")) == 2  # once Slack answered, the answer is kept


def test_a_token_revoked_before_the_first_request_is_said_plainly_without_a_traceback(
    slack_url, fake_slack, caplog
):
    fake_slack.respond_with("auth.test", lambda call: (200, {"ok": False, "error": "token_revoked"}, {}))
    body = urlencode(slash_command("/who-owns", "SAE") | {"response_url": f"{fake_slack.url}response-hook"})
    answer = post(f"{slack_url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")
    assert answer.status == 200
    [told] = fake_slack.calls_to("response-hook")  # Bolt's own word for an app no longer installed
    assert "Something went wrong" not in str(told.params) and "owned by" not in str(told.params)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("cadence")]
