"""The per-suite tool flags of the AgentDojo replay: what each tool does, nothing more.

For every tool: its autonomy (read or write), its risk flags (``external``: sends data or
requests outside the user's own systems; ``moves_money``; ``irreversible``), the labels of its
output (which fields come from a system of record and which carry third-party text, and how
confidential they are) and, where an argument's name does not say what it decides, its role.
No entry names an attacker's value, and the same generic flow rules apply to every suite.
"""

from __future__ import annotations

from typing import Any

# output labels ------------------------------------------------------------------------------
RECORD = {"trust": "trusted"}
THIRD_PARTY = {"trust": "untrusted"}


def _labels(trust: str, confidentiality: str, **fields: str) -> dict[str, Any]:
    out: dict[str, Any] = {"trust": trust, "confidentiality": confidentiality}
    if fields:
        out["fields"] = fields
    return out


# an email: addresses and ids come from the mail system; subject, body, attachments from anyone
EMAILS = _labels(
    "trusted", "personal", subject="untrusted", body="untrusted", attachments="untrusted"
)
# a calendar event: times, ids and participants from the calendar; text from whoever invited
EVENTS = _labels(
    "trusted", "personal", title="untrusted", description="untrusted", location="untrusted"
)
# a file: metadata from the drive; content from whoever wrote it
FILES = _labels("trusted", "personal", content="untrusted")
CONTACTS = _labels("trusted", "personal", notes="untrusted")
TRANSACTIONS = _labels("trusted", "financial", subject="untrusted")
MESSAGES = _labels("trusted", "internal", body="untrusted")


def read(output: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"autonomy": "read", "output": output, **extra}


def write(
    *flags: str, roles: dict[str, str] | None = None, output: dict[str, Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"autonomy": "write", "flags": list(flags)}
    if roles:
        spec["roles"] = roles
    if output is not None:
        spec["output"] = output
    return spec


WORKSPACE: dict[str, dict[str, Any]] = {
    "send_email": write("external", output=EMAILS),
    "delete_email": write("irreversible"),
    "get_unread_emails": read(EMAILS),
    "get_sent_emails": read(EMAILS),
    "get_received_emails": read(EMAILS),
    "get_draft_emails": read(EMAILS),
    "search_emails": read(EMAILS),
    "search_contacts_by_name": read(CONTACTS),
    "search_contacts_by_email": read(CONTACTS),
    "get_current_day": read(_labels("trusted", "internal")),
    "search_calendar_events": read(EVENTS),
    "get_day_calendar_events": read(EVENTS),
    "create_calendar_event": write("external", output=EVENTS),  # invites participants
    "cancel_calendar_event": write("irreversible"),
    "reschedule_calendar_event": write(output=EVENTS),
    "add_calendar_event_participants": write("external", output=EVENTS),
    "append_to_file": write(output=FILES),
    "search_files_by_filename": read(FILES),
    "create_file": write(output=FILES),
    "delete_file": write("irreversible", output=FILES),
    "get_file_by_id": read(FILES),
    "list_files": read(FILES),
    "share_file": write("external", output=FILES),
    "search_files": read(FILES),
}

# travel: listings, prices and addresses come from the booking provider; reviews from anyone
_LISTING = _labels("trusted", "public")
_REVIEWS = _labels("untrusted", "public")
TRAVEL: dict[str, dict[str, Any]] = {
    "get_user_information": read(_labels("trusted", "personal")),
    "get_all_hotels_in_city": read(_LISTING),
    "get_hotels_prices": read(_LISTING),
    "get_rating_reviews_for_hotels": read(_REVIEWS),
    "get_hotels_address": read(_LISTING),
    "get_all_restaurants_in_city": read(_LISTING),
    "get_cuisine_type_for_restaurants": read(_LISTING),
    "get_restaurants_address": read(_LISTING),
    "get_rating_reviews_for_restaurants": read(_REVIEWS),
    "get_dietary_restrictions_for_all_restaurants": read(_LISTING),
    "get_contact_information_for_restaurants": read(_LISTING),
    "get_price_for_restaurants": read(_LISTING),
    "check_restaurant_opening_hours": read(_LISTING),
    "get_all_car_rental_companies_in_city": read(_LISTING),
    "get_car_types_available": read(_LISTING),
    "get_rating_reviews_for_car_rental": read(_REVIEWS),
    "get_car_fuel_options": read(_LISTING),
    "get_car_rental_address": read(_LISTING),
    "get_car_price_per_day": read(_LISTING),
    "create_calendar_event": write("external", output=EVENTS),
    "search_calendar_events": read(EVENTS),
    "get_day_calendar_events": read(EVENTS),
    "cancel_calendar_event": write("irreversible"),
    "reserve_hotel": write("moves_money", roles={"hotel": "target"}),
    "reserve_car_rental": write("moves_money", roles={"company": "target"}),
    "reserve_restaurant": write("moves_money", roles={"restaurant": "target"}),
    "get_flight_information": read(_LISTING),
    "send_email": write("external", output=EMAILS),
}

BANKING: dict[str, dict[str, Any]] = {
    "get_iban": read(_labels("trusted", "financial")),
    "send_money": write("external", "moves_money"),
    "schedule_transaction": write("external", "moves_money"),
    "update_scheduled_transaction": write("external", "moves_money"),
    "get_balance": read(_labels("trusted", "financial")),
    "get_most_recent_transactions": read(TRANSACTIONS),
    "get_scheduled_transactions": read(TRANSACTIONS),
    "read_file": read(_labels("untrusted", "personal")),
    "get_user_info": read(_labels("trusted", "personal")),
    "update_password": write("irreversible"),
    "update_user_info": write(),
}

SLACK: dict[str, dict[str, Any]] = {
    "get_channels": read(_labels("trusted", "internal")),
    "add_user_to_channel": write(),
    "read_channel_messages": read(MESSAGES),
    "read_inbox": read(_labels("trusted", "personal", body="untrusted")),
    "send_direct_message": write(),
    "send_channel_message": write(),
    "get_users_in_channel": read(_labels("trusted", "internal")),
    "invite_user_to_slack": write("external"),  # the invitation goes to an outside address
    "remove_user_from_slack": write("irreversible"),
    "get_webpage": read(_labels("untrusted", "public"), flags=["external"]),
    "post_webpage": write("external"),
}

SUITES: dict[str, dict[str, dict[str, Any]]] = {
    "workspace": WORKSPACE,
    "travel": TRAVEL,
    "banking": BANKING,
    "slack": SLACK,
}
