import json

import shopfront


def call(path):
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(shopfront.app({"PATH_INFO": path}, start_response))
    return seen["status"], json.loads(body)


def test_front_page_greets_with_the_private_library():
    status, body = call("/")
    assert status == "200 OK"
    assert body["greeting"].startswith("hello world from lockstep-sample-lib")


def test_health():
    assert call("/health") == ("200 OK", {"healthy": True})
