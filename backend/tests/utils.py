"""Assertions shared by the plumbing tests."""

import json


def assert_error(response, status: int, code: str) -> dict:
    """The response is JSON in the one error shape with this status and code; returns the ``error`` object."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"], "the message must say something"
    text = response.content.decode()
    assert "Traceback" not in text
    assert 'File "' not in text
    return error
