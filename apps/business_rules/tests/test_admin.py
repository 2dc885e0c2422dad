"""Django admin: rule edits go through the services (validated, versioned, actor kept); nothing is deleted."""

import json

import pytest
from django.urls import reverse

from apps.business_rules.models import BusinessRule, BusinessRuleVersion
from apps.business_rules.tests.factories import BusinessRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_user(make_user):
    return make_user("hr")


@pytest.fixture
def browser(client, hr_user):
    client.force_login(hr_user)
    return client


def _form(**overrides) -> dict:
    data = {
        "code": "ADMIN_RULE",
        "name": "From the admin",
        "description": "",
        "rule_type": "max_weekly_hours",
        "params": json.dumps({"max_hours": 40}),
        "severity": "block",
        "events": json.dumps(["assignment.approve"]),
        "is_active": "on",
        "valid_from": "",
        "valid_to": "",
        # the read-only snapshot inline's management form
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_pages_render(browser):
    rule = BusinessRuleFactory()
    for url in (
        reverse("admin:business_rules_businessrule_changelist"),
        reverse("admin:business_rules_businessrule_add"),
        reverse("admin:business_rules_businessrule_change", args=[rule.pk]),
        reverse("admin:business_rules_businessruleversion_changelist"),
    ):
        assert browser.get(url, {"q": "rule"} if url.endswith("/businessrule/") else {}).status_code == 200, url


def test_add_goes_through_the_service(browser, hr_user):
    response = browser.post(reverse("admin:business_rules_businessrule_add"), _form())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule = BusinessRule.objects.get(code="ADMIN_RULE")
    assert rule.version == 1
    assert BusinessRuleVersion.objects.get(rule=rule).actor == hr_user


def test_bad_params_are_form_errors_and_nothing_is_saved(browser):
    response = browser.post(
        reverse("admin:business_rules_businessrule_add"), _form(params=json.dumps({"max_hours": "forty"}))
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "params.max_hours" in errors["params"][0]
    assert not BusinessRule.objects.filter(code="ADMIN_RULE").exists()


def test_change_bumps_the_version(browser, hr_user):
    rule = BusinessRuleFactory(code="ADMIN_RULE", name="From the admin", rule_type="max_weekly_hours")
    url = reverse("admin:business_rules_businessrule_change", args=[rule.pk])
    response = browser.post(url, _form(params=json.dumps({"max_hours": 36})))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.version, rule.params) == (2, {"max_hours": 36})
    assert BusinessRuleVersion.objects.get(rule=rule, version=2).actor == hr_user
    browser.post(url, _form(params=json.dumps({"max_hours": 36})))  # unchanged: no new version
    assert BusinessRule.objects.get(pk=rule.pk).version == 2


def test_rules_and_snapshots_cannot_be_deleted(browser):
    rule = BusinessRuleFactory()
    assert browser.get(reverse("admin:business_rules_businessrule_delete", args=[rule.pk])).status_code == 403
    version = rule.versions.get()
    url = reverse("admin:business_rules_businessruleversion_delete", args=[version.pk])
    assert browser.get(url).status_code == 403
    assert BusinessRule.objects.filter(pk=rule.pk).exists()
