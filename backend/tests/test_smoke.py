import pytest


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_login_sets_cookies_and_me_works(api_client, make_user):
    from apps.users.tests.factories import DEFAULT_PASSWORD

    user = make_user("hr")
    response = api_client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == user.email
    assert "coveris_access" in response.cookies
    me = api_client.get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json()["role"] == "hr"
