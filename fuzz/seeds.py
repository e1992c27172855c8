#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into fuzz/corpus/<target>/seed-*.

The seeds are header values from tests/ and RFC examples, and for the targets that read their
input through FuzzedDataProvider (checksum, presign, api_json, request) inputs encoded so that
the target sees a meaningful case (a correct checksum, a valid signature, a POST -> PATCH ->
HEAD session). The fuzzers grow the corpus from there; `-merge=1` keeps it small
(fuzz/README.md). Run from anywhere: python3 fuzz/seeds.py
"""
import hashlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


class Fdp:
    """Builds an input for LLVM's FuzzedDataProvider: integers are taken from the end of the
    input (most significant byte first), strings and the remainder from the front."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in consumption order

    def int(self, lo, hi, v):
        rng, k = hi - lo, 0
        while k < 8 and (rng >> (8 * k)) > 0:
            k += 1
        x = v - lo
        assert 0 <= x <= rng
        self.back += x.to_bytes(k, "big") if k else b""
        return self

    def bool(self, b):
        return self.int(0, 255, 1 if b else 0)

    def string(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.front += s.replace(b"\\", b"\\\\") + b"\\|"
        return self

    def rest(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.front += s
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


def write(target, seeds):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(seeds):
        if isinstance(s, str):
            s = s.encode()
        (d / f"seed-{i:03d}").write_bytes(s)


# --- plain-text targets ----------------------------------------------------------------------

METADATA = [
    "filename d29ybGQ=,is_confidential", "a YQ==, b Yg==", "a YQ==  ,\t b Yg==", "k1 djE=,k2 djI=",
    "filename bXkgdmlkZW8gKGZpbmFsKS5tcDQ=,filetype dmlkZW8vbXA0", "x-file.name_1;=:! YQ==",
    "name YWJjZA", "a YQ==,a Yg==", "a YQ== Yg==", "caf\xc3\xa9 YQ==", "a\r\nSet-Cookie: x",
    "is_confidential ,a YQ==", ",a YQ==", "a YQ==,", "name Y=Q=", "fileName Zm9vLm1wNA==",
    "parent_id MTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTEx",
]
CONCAT = [
    "partial", "final;/files/a /files/b", "final; /files/a  /files/b ",
    "final;http://vidup.test/files/0123456789abcdef0123456789abcdef /files/fedcba9876543210fedcba9876543210",
    "final;", "final", "partial;x", "final;/files/a\t/files/b", "Final;/files/a", "",
]
INTEGERS = [
    "0", "7", "007", "11", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "-1", "+1", " 1", "1 ", "0x10", "1e3", "",
    "Wed, 25 Jun 2014 16:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sat, 29 Feb 2020 00:00:00 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Fri, 31 Dec 9999 23:59:59 GMT",
    "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef", "../../etc/passwd",
    "\x00\x00\x00\x00\x00\x00\x00\x00", "\xff\xff\xff\xff\xff\xff\xff\x7f",
]


def checksum_seeds():
    out = []
    body = b"hello world"
    for name, fn in [("sha1", hashlib.sha1), ("md5", hashlib.md5), ("sha256", hashlib.sha256)]:
        import base64
        header = f"{name} {base64.b64encode(fn(body).digest()).decode()}"
        out.append(Fdp().string(header).int(0, 8, 2).int(0, 4096, 3).int(0, 4096, 5).rest(body).bytes())
    out.append(Fdp().string("crc32 DUqqZQ==").int(0, 8, 0).rest(body).bytes())
    for h in ["SHA1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=", "sha1  Kq5sNclPz7QV2+lfQIuc6R7oRu0=", "sha1 Kq5s", "sha512 YQ==",
              " sha1 x", "sha1"]:
        out.append(Fdp().string(h).int(0, 8, 1).int(0, 4096, 1).rest(b"ab").bytes())
    return out


def presign_seeds():
    out = []
    video = "0f8fad5b-d9cb-469f-a165-70867728950e"
    # now, 1 active key, the harness signs a canonical expiration with key 0.
    for now, exp, upper, sig_mode, revoked in [(1_700_000_000, 1_700_000_600, False, 2, False),
                                               (1_700_000_000, 1_600_000_000, True, 2, False),
                                               (1_700_000_000, 1_700_000_600, False, 2, True),
                                               (1_700_000_000, 1_700_000_600, False, 3, False)]:
        f = Fdp().int(0, 4_000_000_000, now).int(0, 3, 1).bool(revoked).int(0, 5_000_000_000, exp).bool(upper)
        f.int(0, 3, 2).int(0, 3, 2).int(0, 3, sig_mode).int(0, 2, 0)
        if sig_mode == 3:
            f.int(0, 63, 5).int(0, 15, 3)
        out.append(f.bytes())
    key = "ky_0123456789abcdef0123"
    sig = hashlib.sha256((key + "1700000600" + video).encode()).hexdigest()
    f = Fdp().int(0, 4_000_000_000, 1_700_000_000).int(0, 3, 1).bool(False).int(0, 5_000_000_000, 0).bool(False)
    f.int(0, 3, 1).string("0001700000600").int(0, 3, 1).string(video.upper()).int(0, 3, 1).string(sig.upper())
    out.append(f.bytes())
    return out


def api_seeds():
    bodies = [
        (0, '{"name": "My project"}'),
        (1, '{"parent_id": "11111111-1111-4111-8111-111111111111", "name": "Folder"}'),
        (2, '{"parent_id": "11111111-1111-4111-8111-111111111111", "title": "My video", "filename": "a.mp4",'
            ' "filetype": "video/mp4", "size": 123456}'),
        (2, '{"parent_id": "33333333-3333-4333-8333-333333333333", "title": "t", "size": null}'),
        (3, '{"title": "Renamed"}'),
        (4, 'limit=2&status=created&parent_id=11111111-1111-4111-8111-111111111111'),
        (4, 'after=44444444-4444-4444-8444-444444444444&limit=100'),
        (5, 'project_id=11111111-1111-4111-8111-111111111111'),
        (6, 'filename YS5tcDQ=,parent_id MTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTEx,title dA=='),
        (7, '{"parent_id": "11111111-1111-4111-8111-111111111111", "type": "video", "filename": "a.mp4",'
            ' "title": "a.mp4", "filesize": 123456}'),
        (8, '{"parent_id": "33333333-3333-4333-8333-333333333333", "type": "video", "filename": "b.MOV",'
            ' "filesize": 0, "client_ip": "192.0.2.1", "filetype": ""}'),
        (9, '{"parent_id": "22222222-2222-4222-8222-222222222222", "type": "video", "filename": "c",'
            ' "filesize": 9223372036854775807}'),
        (7, '{"parent_id": 1, "type": "audio", "filename": "", "filesize": -1}'),
    ]
    out = []
    for call, body in bodies:
        for key in (4, 2):
            out.append(Fdp().int(0, 9, call).int(0, 7, key).bool(False).rest(body).bytes())
    return out


# --- fuzz_request: sessions, mirroring the order fuzz_request.cpp consumes its input ----------

NAMES = {n: i for i, n in enumerate([
    "Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Defer-Length", "Upload-Metadata",
    "Upload-Concat", "Upload-Checksum", "Content-Type", "X-HTTP-Method-Override", "Trailer", "Range", "Origin",
    "Access-Control-Request-Method", "upload-offset", "Content-Length", "Upload-Expires"])}
METHODS = {m: i for i, m in enumerate(["POST", "PATCH", "HEAD", "GET", "DELETE", "OPTIONS", "PUT", "post"])}


class Session:
    def __init__(self, requests):
        self.f = Fdp().int(0, 65535, 0).int(1, 8, requests)
        self.ids = 0  # how many uploads the session has created so far (as the target counts them)

    def pick_id(self, k):
        if self.ids == 0:
            self.f.bool(True)  # the fixed unknown id
        else:
            self.f.int(0, 7, 1).int(0, self.ids - 1, k)

    def request(self, method, path, body=b"", headers=(), framing=0, created=False):
        f = self.f
        f.int(0, 7, 1)  # no clock move
        f.int(0, 7, METHODS[method])
        if path is None:
            f.int(0, 7, 2)  # /files/
        else:
            f.int(0, 7, 4)
            self.pick_id(path)
            f.int(0, 15, 1)  # no trailing slash
        f.string(body)
        f.int(0, 7, framing)
        if framing == 2:
            self.checksum(body)
        f.int(0, 15, 1)  # Tus-Resumable
        f.int(0, 6, len(headers))
        for name, value in headers:
            f.int(0, 15, NAMES[name])
            f.int(0, 4, 1)  # a well-formed value
            value(self)
        if created:
            self.ids += 1
        return self

    def checksum(self, body, algorithm=0):
        self.f.int(0, 4, algorithm).int(0, 3, 1).int(0, 3, 1)

    def bytes(self):
        return self.f.bytes()


def length(n):
    return lambda s: s.f.int(0, 5, 2).int(0, 600, n)


def offset_now(s):
    s.f.int(0, 3, 2)


def nothing(s):
    pass


def final_of(*ks):
    def value(s):
        s.f.int(0, 3, 2).int(1, 4, len(ks))
        for k in ks:
            s.f.bool(False)
            s.pick_id(k)
    return value


def checksum_of(body, algorithm=0):
    return lambda s: s.checksum(body, algorithm)


def request_seeds():
    ct = ("Content-Type", nothing)
    hello = b"hello world"
    out = []
    out.append(Session(4).request("POST", None, headers=[("Upload-Length", length(11))], created=True)
               .request("PATCH", 0, hello, [ct, ("Upload-Offset", offset_now)])
               .request("HEAD", 0).request("GET", 0).bytes())
    out.append(Session(3).request("POST", None, b"hello", [("Upload-Length", length(5)), ct,
                                                           ("Upload-Checksum", checksum_of(b"hello"))], created=True)
               .request("HEAD", 0).request("DELETE", 0).bytes())
    out.append(Session(3).request("POST", None, headers=[("Upload-Defer-Length", nothing)], created=True)
               .request("PATCH", 0, b"0123456789", [ct, ("Upload-Offset", offset_now), ("Upload-Length", length(10))])
               .request("HEAD", 0).bytes())
    out.append(Session(6).request("POST", None, headers=[("Upload-Length", length(3)), ("Upload-Concat", lambda s: s.f.int(0, 3, 1))], created=True)
               .request("POST", None, headers=[("Upload-Length", length(2)), ("Upload-Concat", lambda s: s.f.int(0, 3, 1))], created=True)
               .request("POST", None, headers=[("Upload-Concat", final_of(0, 1))], created=True)
               .request("PATCH", 0, b"abc", [ct, ("Upload-Offset", offset_now)])
               .request("PATCH", 1, b"de", [ct, ("Upload-Offset", offset_now)])
               .request("HEAD", 2).bytes())
    out.append(Session(3).request("POST", None, headers=[("Upload-Length", length(11))], created=True)
               .request("PATCH", 0, hello, [ct, ("Upload-Offset", offset_now), ("Trailer", nothing)], framing=2)
               .request("GET", 0, headers=[("Range", lambda s: s.f.int(0, 40, 2).bool(True).int(0, 40, 5))]).bytes())
    out.append(Session(1).request("OPTIONS", None).bytes())
    out.append(Session(2).request("POST", None, headers=[("Upload-Length", length(4)), ("Upload-Metadata", lambda s: s.f.string("a.mp4"))], created=True)
               .request("POST", 0, b"abcd", [ct, ("Upload-Offset", offset_now), ("X-HTTP-Method-Override", lambda s: s.f.int(0, 7, 1))]).bytes())
    return out


if __name__ == "__main__":
    write("fuzz_metadata", METADATA)
    write("fuzz_concat", CONCAT)
    write("fuzz_integers", INTEGERS)
    write("fuzz_checksum", checksum_seeds())
    write("fuzz_presign", presign_seeds())
    write("fuzz_api_json", api_seeds())
    write("fuzz_request", request_seeds())
    for d in sorted(ROOT.iterdir()):
        print(d.name, len(list(d.iterdir())))
