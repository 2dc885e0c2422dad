"""Drive the admin's transition preview/confirm page as a browser would: action → preview → (update) → confirm."""

from django.contrib.messages import get_messages
from django.utils import timezone


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def open_preview(client, changelist: str, action: str, pks):
    """The intermediate page a changelist action opens (a 200 with the preview in its context)."""
    page = client.post(changelist, {"action": action, "_selected_action": list(pks), "index": 0})
    assert page.status_code == 200, page
    assert "rows" in page.context, page.content[:500]
    return page


def fields_of(page, **fields) -> dict:
    data = {
        "_selected_action": page.context["selected"],
        "effective_date": fields.pop("effective_date", timezone.localdate().isoformat()),
        **page.context["hidden"],
    }
    for key, value in fields.items():
        if value is not None and value is not False:
            data[key] = value
    return data


def update_preview(client, page, **fields):
    """Submit the page's form with ``fields`` to see the preview for them."""
    return client.post(page.context["action_url"], {**fields_of(page, **fields), "fingerprint": "-", "_preview": "1"})


def run_transition(client, changelist: str, action: str, pks, *, follow: bool = True, **fields):
    """Action → preview with ``fields`` → Confirm, as an HR user clicks through it; returns the confirm response."""
    page = open_preview(client, changelist, action, pks)
    page = update_preview(client, page, **fields)
    if "fingerprint" not in (page.context or {}) or not page.context["fingerprint"]:
        return page  # the form was refused (it shows its errors), nothing to confirm
    data = {**fields_of(page, **fields), "fingerprint": page.context["fingerprint"], "_confirm": "1"}
    return client.post(page.context["action_url"], data, follow=follow)
