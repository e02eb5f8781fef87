"""Prints the Authorization header botocore's SigV4Auth computes for an STS POST.

Used by tests/unit/sts_test.cpp to check mskiam's header signing against botocore on inputs the
test chooses (host with a port, session token or not, any region). Test credentials only.

usage: sts_botocore_sign.py URL REGION AMZ_DATE ACCESS_KEY SECRET TOKEN|- BODY
"""
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main(argv):
    url, region, amz_date, akid, secret, token, body = argv[1:8]
    creds = Credentials(akid, secret, None if token == "-" else token)
    request = AWSRequest(method="POST", url=url, data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    auth = SigV4Auth(creds, "sts", region)
    # add_auth() without its clock: the same steps with a fixed X-Amz-Date.
    request.context["timestamp"] = amz_date
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    auth._inject_signature_to_request(request, signature)
    print(request.headers["Authorization"])


if __name__ == "__main__":
    main(sys.argv)
