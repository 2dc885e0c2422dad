"""CognitoJWTAuthentication against a local JWKS: what it accepts, what it leaves alone, what it refuses."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework_simplejwt.tokens import AccessToken

from apps.users.api.views import MeView
from apps.users.tests.factories import UserFactory
from backend.authentication import CognitoJWTAuthentication, CookieJWTAuthentication

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_CoverisTest"
CLIENT_ID = "coveris-spa-client"
KID = "pool-key-1"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pool_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Pool:
    """Mints tokens the way the configured Cognito pool would, with overrides for each attack."""

    def __init__(self, key):
        self.key = key

    def claims(self, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "sub": "5f1c0d1e-0000-4000-8000-000000000001",
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "email": "pat@coveris.test",
            "email_verified": True,
            "auth_time": now,
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, key=None, kid=KID, algorithm="RS256", **overrides) -> str:
        headers = {"kid": kid} if kid else {}
        return jwt.encode(self.claims(**overrides), key or self.key, algorithm=algorithm, headers=headers)


class _JWKSServer:
    """A local HTTP endpoint standing in for the pool's /.well-known/jwks.json (PyJWT only fetches http(s))."""

    def __init__(self):
        self.documents: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def jwks_server():
    server = _JWKSServer()
    yield server
    server.close()


@pytest.fixture
def pool(settings, jwks_server, pool_key, request):
    jwk = json.loads(RSAAlgorithm.to_jwk(pool_key.public_key()))
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
    # One document per test (no state leaks between tests), at a URL-safe path.
    path = f"/{hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]}/jwks.json"
    jwks_server.documents[path] = json.dumps({"keys": [jwk]}).encode()
    settings.COGNITO_JWKS_URL = jwks_server.url(path)
    settings.COGNITO_ISSUER = ISSUER
    settings.COGNITO_APP_CLIENT_ID = CLIENT_ID
    settings.COGNITO_TOKEN_USE = "id"
    CognitoJWTAuthentication.reset_jwks_cache()
    yield Pool(pool_key)
    CognitoJWTAuthentication.reset_jwks_cache()


def _authenticate(token: str, scheme: str = "Bearer"):
    request = Request(APIRequestFactory().get("/api/auth/me/", HTTP_AUTHORIZATION=f"{scheme} {token}"))
    return CognitoJWTAuthentication().authenticate(request)


def _refused(token: str, match: str):
    with pytest.raises(exceptions.AuthenticationFailed, match=match):
        _authenticate(token)


# --- accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "JWT"])
def test_valid_token_maps_to_the_local_user_by_email(pool, scheme):
    user = UserFactory(email="pat@coveris.test", role="hr")

    authenticated, claims = _authenticate(pool.token(), scheme)

    assert authenticated == user
    assert claims["sub"] == "5f1c0d1e-0000-4000-8000-000000000001"
    assert claims["token_use"] == "id"


def test_email_is_matched_case_insensitively(pool):
    user = UserFactory(email="pat@coveris.test")

    authenticated, _ = _authenticate(pool.token(email="Pat@Coveris.TEST"))

    assert authenticated == user


def test_access_tokens_when_configured_check_the_client_id(pool, settings):
    settings.COGNITO_TOKEN_USE = "access"
    user = UserFactory(email="pat@coveris.test")

    authenticated, _ = _authenticate(pool.token(token_use="access", aud=None, client_id=CLIENT_ID))

    assert authenticated == user
    _refused(pool.token(token_use="access", aud=None, client_id="another-client"), "another client")
    _refused(pool.token(token_use="id"), "Token use must be 'access'")


# --- left to the next authentication class -----------------------------------------------------


def test_token_from_another_issuer_is_left_to_the_next_class(pool):
    UserFactory(email="pat@coveris.test")

    assert _authenticate(pool.token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")) is None
    assert _authenticate(pool.token(iss=None)) is None


def test_the_apis_own_tokens_and_non_jwts_are_left_alone(pool):
    user = UserFactory()

    assert _authenticate(str(AccessToken.for_user(user))) is None
    assert _authenticate("not-a-jwt") is None


def test_no_header_or_another_scheme_is_left_alone(pool):
    assert CognitoJWTAuthentication().authenticate(Request(APIRequestFactory().get("/"))) is None
    assert _authenticate(pool.token(), scheme="Basic") is None


def test_unconfigured_pool_authenticates_nothing(pool, settings):
    UserFactory(email="pat@coveris.test")
    settings.COGNITO_ISSUER = ""

    assert _authenticate(pool.token()) is None


# --- refused --------------------------------------------------------------------------------------


def test_expired_token_is_refused(pool):
    UserFactory(email="pat@coveris.test")
    past = int(time.time()) - 3600

    _refused(pool.token(iat=past - 300, exp=past), "expired")


def test_token_without_expiry_is_refused(pool):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(exp=None), "exp")


def test_pool_issuer_but_wrong_audience_is_refused(pool):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(aud="someone-elses-client"), "(?i)audience")
    _refused(pool.token(aud=None), "aud")


def test_wrong_token_use_is_refused(pool):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(token_use="access"), "Token use must be 'id'")
    _refused(pool.token(token_use=None), "token_use")


def test_bad_signature_with_the_pools_kid_is_refused(pool, other_key):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(key=other_key), "Signature verification failed")


def test_tampered_claims_are_refused(pool):
    UserFactory(email="pat@coveris.test")
    UserFactory(email="boss@coveris.test", role="admin")
    header, _, signature = pool.token().split(".")
    forged_payload = _b64(pool.claims(email="boss@coveris.test"))

    _refused(f"{header}.{forged_payload}.{signature}", "Signature verification failed")


def test_unknown_kid_is_refused(pool, other_key):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(key=other_key, kid="attacker-key"), "signing key")
    _refused(pool.token(kid=None), "signing key")


def test_alg_none_is_refused(pool):
    UserFactory(email="pat@coveris.test")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': KID})}.{_b64(pool.claims())}."

    _refused(unsigned, "algorithm not allowed")


def test_hs256_signed_with_the_public_key_is_refused(pool, pool_key):
    """The classic algorithm-confusion attack: HMAC keyed with the (public) RSA key."""
    UserFactory(email="pat@coveris.test")
    public_pem = pool_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": KID})
    payload = _b64(pool.claims())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    _refused(f"{header}.{payload}.{signature}", "algorithm not allowed")


def test_unknown_email_is_refused(pool):
    UserFactory(email="someone-else@coveris.test")

    _refused(pool.token(), "No Coveris user")


def test_missing_email_claim_is_refused(pool):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(email=None), "no email")
    _refused(pool.token(email=["pat@coveris.test"]), "no email")


@pytest.mark.parametrize("verified", [False, "false"])
def test_unverified_email_is_refused(pool, verified):
    UserFactory(email="pat@coveris.test")

    _refused(pool.token(email_verified=verified), "not verified")


def test_inactive_user_is_refused(pool):
    UserFactory(email="pat@coveris.test", is_active=False)

    _refused(pool.token(), "inactive")


def test_unreachable_jwks_is_refused_not_a_server_error(pool, settings, jwks_server):
    UserFactory(email="pat@coveris.test")
    settings.COGNITO_JWKS_URL = jwks_server.url("/missing/jwks.json")

    _refused(pool.token(), "signing key")


def test_non_http_jwks_url_is_refused_not_a_server_error(pool, settings, tmp_path):
    UserFactory(email="pat@coveris.test")
    settings.COGNITO_JWKS_URL = (tmp_path / "jwks.json").as_uri()

    _refused(pool.token(), "signing key")


@pytest.mark.parametrize("document", [b"{not json", b"[]", b'{"keys": []}', b'{"keys": [{"kty": "nope"}]}'])
def test_unusable_jwks_is_refused_not_a_server_error(pool, settings, jwks_server, document):
    UserFactory(email="pat@coveris.test")
    path = f"/broken-{hashlib.sha256(document).hexdigest()[:16]}.json"
    jwks_server.documents[path] = document
    settings.COGNITO_JWKS_URL = jwks_server.url(path)

    _refused(pool.token(), "signing key")
    assert jwks_server.hits[path] >= 1, "the broken document itself was served"


def test_jwks_is_fetched_once_and_cached(pool, settings, jwks_server):
    UserFactory(email="pat@coveris.test")
    path = settings.COGNITO_JWKS_URL.split(str(jwks_server.httpd.server_address[1]), 1)[1]

    for _ in range(3):
        assert _authenticate(pool.token()) is not None

    assert jwks_server.hits[path] == 1


# --- through an endpoint (the production class order) -----------------------------------------


@pytest.fixture
def cognito_first(monkeypatch):
    # APIView binds DEFAULT_AUTHENTICATION_CLASSES at import, so the view is patched, not the setting.
    monkeypatch.setattr(MeView, "authentication_classes", [CognitoJWTAuthentication, CookieJWTAuthentication])


def test_endpoint_accepts_a_cognito_token(pool, cognito_first):
    user = UserFactory(email="pat@coveris.test", role="manager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pool.token()}")

    response = client.get("/api/auth/me/")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == user.id


def test_endpoint_still_accepts_the_apis_own_tokens(pool, cognito_first):
    user = UserFactory(role="auditor")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")

    assert client.get("/api/auth/me/").json()["id"] == user.id


def test_endpoint_refuses_a_bad_cognito_token_with_401_in_the_error_shape(pool, cognito_first, other_key):
    UserFactory(email="pat@coveris.test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pool.token(key=other_key)}")

    response = client.get("/api/auth/me/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_lookalike_verified_email_does_not_become_another_users_identity(pool):
    """A pool user who verified admin@bıg.test (a different, registrable domain) is not admin@big.test."""
    UserFactory(email="admin@big.test", role="admin")
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(pool.token(email="admin@bıg.test", email_verified=True))
