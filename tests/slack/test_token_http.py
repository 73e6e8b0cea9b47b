"""Slack failing when Cadence first checks its token is an outage, not an uninstall: nobody is told to
reinstall, and the command can be sent again once Slack answers."""

from __future__ import annotations

from tests.payloads import post_command


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
