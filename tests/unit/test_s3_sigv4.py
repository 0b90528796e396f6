"""The SigV4 signer against the worked examples of the S3 API reference ("Signature Calculations for the
Authorization Header: Transferring Payload in a Single Chunk"), value for value."""

from __future__ import annotations

from datetime import UTC, datetime

from gaia_services.asset.sigv4 import (
    EMPTY_SHA256,
    SigningKey,
    canonical_query,
    canonical_request,
    canonical_uri,
    sha256_hex,
    sign,
    signing_key,
    string_to_sign,
)

KEY = SigningKey(
    access_key="AKIAIOSFODNN7EXAMPLE",
    secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    region="us-east-1",
)
WHEN = datetime(2013, 5, 24, tzinfo=UTC)
HOST = "examplebucket.s3.amazonaws.com"


def test_get_object_example_matches_every_intermediate_value() -> None:
    headers = {
        "host": HOST,
        "range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    request = canonical_request("GET", "/test.txt", "", headers, EMPTY_SHA256)
    assert request == (
        "GET\n/test.txt\n\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert string_to_sign(request, KEY, WHEN) == (
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    )
    signed = sign(KEY, method="GET", host=HOST, path="/test.txt", headers={"Range": "bytes=0-9"}, now=WHEN)
    assert signed["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert (signed["x-amz-date"], signed["x-amz-content-sha256"]) == ("20130524T000000Z", EMPTY_SHA256)


def test_put_object_example_with_a_body_and_an_encoded_key() -> None:
    body = b"Welcome to Amazon S3."
    assert sha256_hex(body) == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    assert canonical_uri("/test$file.text") == "/test%24file.text"
    signed = sign(
        KEY,
        method="PUT",
        host=HOST,
        path="/test$file.text",
        headers={"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
        payload_hash=sha256_hex(body),
        now=WHEN,
    )
    assert signed["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    )


def test_query_and_path_canonical_forms() -> None:
    assert canonical_query({"prefix": "a b", "max-keys": "2", "list-type": "2"}) == (
        "list-type=2&max-keys=2&prefix=a%20b"
    )
    assert canonical_uri("/bucket/generated/image/x y+z~.png") == "/bucket/generated/image/x%20y%2Bz~.png"
    assert canonical_uri("") == "/"


def test_the_signing_key_depends_on_day_region_and_secret() -> None:
    base = signing_key(KEY, WHEN)
    assert len(base) == 32
    assert signing_key(KEY, datetime(2013, 5, 25, tzinfo=UTC)) != base
    assert (
        signing_key(SigningKey(access_key="x", secret_key=KEY.secret_key, region="eu-west-1"), WHEN) != base
    )
    assert signing_key(SigningKey(access_key="x", secret_key="other", region="us-east-1"), WHEN) != base
