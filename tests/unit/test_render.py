"""testkit.render draws Block Kit as the text a person would read in Slack."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.render import mrkdwn_to_text, render_blocks, render_message, render_view

NAMES = {"U1": "Ana", "U2": "Ben", "C9": "wins"}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def lines_of(rendered: str) -> list[str]:
    return rendered.split("\n")


# --- mrkdwn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("hi <@U123>", "hi @U123"),
        ("hi <@U123|bob>", "hi @bob"),
        ("posted in <#C123|wins>", "posted in #wins"),
        ("posted in <#C123>", "posted in #C123"),
        ("see <https://x.example/a|the deck>", "see the deck (https://x.example/a)"),
        ("see <https://x.example/a>", "see https://x.example/a"),
        ("*bold* and _italic_ stay", "*bold* and _italic_ stay"),
        ("R&amp;D &lt;3 &gt; all", "R&D <3 > all"),
        ("&amp;lt; is an escaped escape", "&lt; is an escaped escape"),
        ("<!here> and <!channel>", "@here and @channel"),
        ("<!subteam^S1|@sales> please", "@sales please"),
        ("due <!date^1392734382^{date_short}|Feb 18, 2014>", "due Feb 18, 2014"),
    ],
)
def test_mrkdwn_to_text(source: str, expected: str) -> None:
    assert mrkdwn_to_text(source) == expected


def test_mrkdwn_names_map_shows_people_by_name() -> None:
    assert mrkdwn_to_text("<@U1> thanks <@U2|ben.k> in <#C9>", names=NAMES) == (
        "@Ana thanks @Ben in #wins"
    )
    # An id missing from the map falls back to the label Slack sent, then to the id.
    assert mrkdwn_to_text("<@U7|zoe> <@U8>", names=NAMES) == "@zoe @U8"


def test_escaped_angle_brackets_are_not_parsed_as_tokens() -> None:
    assert mrkdwn_to_text("a &lt;@U1&gt; b", names=NAMES) == "a <@U1> b"


# --- messages -----------------------------------------------------------------------------


def debrief_message_blocks() -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": plain("Perfect miss")},
        {
            "type": "section",
            "text": mrkdwn("<@U1> lost *Acme renewal* &amp; did everything right."),
            "accessory": {"type": "button", "text": plain("Details"), "action_id": "details"},
        },
        {
            "type": "section",
            "fields": [
                mrkdwn("*Stage*\nNegotiation"),
                mrkdwn("*Process*\n5 of 5"),
                mrkdwn("*Reason*\nBudget frozen"),
            ],
        },
        {"type": "divider"},
        {"type": "context", "elements": [mrkdwn("Logged by <@U2> in <#C9|wins>")]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": plain("Open debrief"), "style": "primary"},
                {"type": "button", "text": plain("Skip")},
                {"type": "button", "text": plain("Delete"), "style": "danger"},
            ],
        },
    ]


def test_message_with_header_section_fields_context_actions() -> None:
    rendered = render_message(text="fallback only", blocks=debrief_message_blocks(), names=NAMES)
    lines = lines_of(rendered)

    assert lines[0] == "Perfect miss"
    assert set(lines[1]) == {"═"} and len(lines[1]) == len("Perfect miss")
    section_line = next(line for line in lines if line.startswith("@Ana lost"))
    assert "*Acme renewal* & did everything right." in section_line
    assert section_line.rstrip().endswith("[ Details ]")
    # Fields pair up as two columns of "label: value".
    paired = next(line for line in lines if line.startswith("Stage: Negotiation"))
    assert paired.rstrip().endswith("Process: 5 of 5")
    assert "Reason: Budget frozen" in lines
    assert any(line.startswith("────") for line in lines)
    assert "  · Logged by @Ben in #wins" in lines
    assert "[ *Open debrief* ]  [ Skip ]  [ !Delete! ]" in lines
    # With blocks, the fallback text is the notification only, not what the reader sees.
    assert "fallback only" not in rendered


def test_message_text_only_is_converted_and_wrapped() -> None:
    text = "Nice bounce-back <@U1>! " + "You kept calling and it paid off. " * 5
    rendered = render_message(text=text, names=NAMES)
    assert rendered.startswith("Nice bounce-back @Ana!")
    assert len(lines_of(rendered)) > 1
    assert all(len(line) <= 72 for line in lines_of(rendered))
    assert render_message() == ""


def test_lines_fit_the_terminal_width() -> None:
    long_text = "A lost deal always leaves a lesson behind if you look for it. " * 6
    blocks = [
        {
            "type": "section",
            "text": mrkdwn(long_text),
            "accessory": {"type": "button", "text": plain("Open")},
        },
        {"type": "context", "elements": [mrkdwn(long_text)]},
        {"type": "divider"},
    ]
    for width in (72, 50):
        lines = lines_of(render_blocks(blocks, width=width))
        assert max(len(line) for line in lines) <= width, width
    context_lines = [line for line in lines if line.startswith("  · ")]
    assert len(context_lines) == 1, "only the first context line carries the marker"


def test_section_accessory_select_and_image_blocks() -> None:
    blocks = [
        {
            "type": "section",
            "text": mrkdwn("Snooze this check-in?"),
            "accessory": {
                "type": "static_select",
                "options": [option("1 week", "1"), option("2 weeks", "2")],
            },
        },
        {"type": "image", "image_url": "https://x.example/c.png", "alt_text": "Pareto chart"},
    ]
    rendered = render_blocks(blocks)
    first_line = lines_of(rendered)[0]
    assert first_line.startswith("Snooze this check-in?")
    assert first_line.endswith("[ Choose… ▾ ]")
    # A closed select in a message does not spill its options.
    assert "1 week" not in rendered
    assert "[image: Pareto chart]" in rendered


def test_unknown_blocks_and_elements_do_not_crash() -> None:
    blocks = [
        {"type": "video", "title": plain("Kickoff")},
        {"type": "actions", "elements": [{"type": "workflow_button", "text": plain("Run")}]},
        {"type": "section", "text": mrkdwn("still here")},
    ]
    rendered = render_blocks(blocks)
    assert lines_of(rendered)[0] == "[video block]"
    assert "[workflow_button]" in rendered
    assert rendered.endswith("still here")


def test_rich_text_best_effort() -> None:
    block = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Lesson from "},
                    {"type": "user", "user_id": "U1"},
                    {"type": "text", "text": ": "},
                    {"type": "text", "text": "listen first", "style": {"bold": True}},
                    {"type": "link", "url": "https://x.example", "text": "notes"},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "Ask"}]},
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "Wait"}]},
                ],
            },
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "Fail forward"}]},
        ],
    }
    lines = lines_of(render_blocks([block], names=NAMES))
    assert lines[0] == "Lesson from @Ana: *listen first*notes (https://x.example)"
    assert lines[1:3] == ["1. Ask", "2. Wait"]
    assert lines[3] == "│ Fail forward"


# --- views --------------------------------------------------------------------------------


def debrief_modal() -> dict[str, Any]:
    stages = [option("Discovery", "discovery"), option("Proposal", "proposal")]
    practices = [option("Pipeline filled", "pipeline"), option("Discovery done", "discovery")]

    def field(label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"type": "input", "label": plain(label), "element": element, **extra}

    return {
        "type": "modal",
        "title": plain("Debrief a lost deal"),
        "submit": plain("Submit"),
        "close": plain("Cancel"),
        "blocks": [
            field("Deal", {"type": "plain_text_input", "placeholder": plain("e.g. Acme")}),
            field(
                "What happened",
                {"type": "plain_text_input", "multiline": True, "initial_value": "Price."},
                optional=True,
                hint=plain("Only you and your manager see this."),
            ),
            field(
                "Stage", {"type": "static_select", "options": stages, "initial_option": stages[1]}
            ),
            field(
                "Process",
                {"type": "checkboxes", "options": practices, "initial_options": [practices[0]]},
            ),
            field("Share it?", {"type": "radio_buttons", "options": [option("Yes", "y")]}),
            field("Who helped", {"type": "multi_users_select"}),
            field("Manager", {"type": "users_select", "initial_user": "U2"}),
            field("Channel", {"type": "channels_select", "initial_channel": "C9"}),
            field("Conversation", {"type": "conversations_select"}),
            field("Amount", {"type": "number_input", "is_decimal_allowed": False}),
            field("Lost on", {"type": "datepicker", "initial_date": "2024-05-01"}),
        ],
    }


def test_modal_with_every_input_kind() -> None:
    rendered = render_view(debrief_modal(), names=NAMES)
    lines = lines_of(rendered)

    assert lines[0].startswith("┌") and lines[2].startswith("└")
    assert lines[1].startswith("│ Debrief a lost deal") and lines[1].endswith("│")
    assert len({len(line) for line in lines[:3]}) == 1, "box edges line up"

    def after(label: str) -> list[str]:
        index = lines.index(label)
        return lines[index + 1 : index + 4]

    deal = after("Deal")[0]
    assert deal.startswith("  [____") and deal.endswith("]  e.g. Acme")
    notes = after("What happened (optional)")
    assert notes[0].startswith("  [Price.___")
    assert notes[1].startswith("  [____"), "multi-line fields are two rows tall"
    assert notes[2] == "  · Only you and your manager see this."
    assert after("Stage") == ["  [ Proposal ▾ ]", "      · Discovery", "      ✓ Proposal"]
    assert after("Process")[:2] == ["  ☑ Pipeline filled", "  ☐ Discovery done"]
    assert after("Share it?")[0] == "  ○ Yes"
    assert after("Who helped")[0] == "  [ @people… ]"
    assert after("Manager")[0] == "  [ @Ben ▾ ]"
    assert after("Channel")[0] == "  [ #wins ▾ ]"
    assert after("Conversation")[0] == "  [ #conversation… ▾ ]"
    assert after("Amount")[0].startswith("  [ ________ ]  (whole number")
    assert after("Lost on")[0] == "  [ 2024-05-01 ▾ ]"
    assert lines[-1].rstrip().endswith("[ Cancel ]  [ Submit ]")
    assert "Deal (optional)" not in lines


def test_radio_initial_option_and_multi_users_initial() -> None:
    yes, no = option("Yes", "y"), option("No", "n")
    blocks = [
        {
            "type": "input",
            "label": plain("Share?"),
            "element": {"type": "radio_buttons", "options": [yes, no], "initial_option": no},
        },
        {
            "type": "input",
            "label": plain("Team"),
            "element": {"type": "multi_users_select", "initial_users": ["U1", "U2"]},
        },
    ]
    lines = lines_of(render_blocks(blocks, names=NAMES))
    assert lines[1:3] == ["  ○ Yes", "  ◉ No"]
    assert "  [ @Ana, @Ben ]" in lines


def test_home_view_has_no_modal_buttons() -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": mrkdwn("Your record")}]}
    rendered = render_view(home)
    assert "│ Home" in rendered
    assert rendered.endswith("Your record")
    assert "[ Cancel ]" not in rendered


def test_modal_without_submit_shows_only_close() -> None:
    view = {"type": "modal", "title": plain("Lessons"), "close": plain("Done"), "blocks": []}
    last_line = lines_of(render_view(view))[-1]
    assert last_line.strip() == "[ Done ]"
